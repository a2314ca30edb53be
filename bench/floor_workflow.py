"""The floor of bench/saga.py: an order-shaped workflow whose activities do
nothing. The same activities, in the same order and of the same kind (task queue
or local), before, inside each update and after, as the order workflow's happy
path (read off tests/histories/order_happy_path_local_projection.json)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from workflows import retry_policies


class Kind(Enum):
    ACTIVITY = "through the task queue"  # the stock steps
    LOCAL = "local activity"  # the order's record and projection writes


ACTIVITY, LOCAL = Kind.ACTIVITY, Kind.LOCAL
# record, reserve, project, allocate, project (requests), project (status)
BEFORE = (LOCAL, ACTIVITY, LOCAL, ACTIVITY, LOCAL, LOCAL)
PER_UPDATE = {
    "accept": (LOCAL,),  # project
    "pick": (ACTIVITY, LOCAL),  # pick, project
    "pack": (LOCAL,),  # project
    "ship": (ACTIVITY, LOCAL),  # ship, project
}
AFTER = (LOCAL,)  # project (shipped)


@dataclass(frozen=True)
class Nothing:
    step: str


@activity.defn
async def do_nothing(data: Nothing) -> Nothing:
    return data


@dataclass(frozen=True)
class FloorInput:
    order_number: str


@workflow.defn
class FloorWorkflow:
    def __init__(self) -> None:
        self.stage = "started"

    async def _steps(self, name: str, kinds: tuple[Kind, ...]) -> None:
        for kind in kinds:
            if kind == LOCAL:
                await workflow.execute_local_activity(
                    do_nothing,
                    Nothing(name),
                    start_to_close_timeout=retry_policies.PROJECTION_TIMEOUT,
                )
            else:
                await workflow.execute_activity(
                    do_nothing,
                    Nothing(name),
                    start_to_close_timeout=retry_policies.ORDER_STEP_TIMEOUT,
                )

    @workflow.run
    async def run(self, data: FloorInput) -> str:
        await self._steps("before", BEFORE)
        self.stage = "ready"
        await workflow.wait_condition(lambda: self.stage == "shipped")
        await self._steps("after", AFTER)
        return data.order_number

    @workflow.query
    def status(self) -> str:
        return self.stage

    @workflow.update
    async def accept(self, data: Nothing) -> str:
        await self._steps("accept", PER_UPDATE["accept"])
        return self.stage

    @workflow.update
    async def pick(self, data: Nothing) -> str:
        await self._steps("pick", PER_UPDATE["pick"])
        return self.stage

    @workflow.update
    async def pack(self, data: Nothing) -> str:
        await self._steps("pack", PER_UPDATE["pack"])
        return self.stage

    @workflow.update
    async def ship(self, data: Nothing) -> str:
        await self._steps("ship", PER_UPDATE["ship"])
        self.stage = "shipped"
        return self.stage
