"""The floor of bench/saga.py: an order-shaped workflow whose activities do
nothing. Same number of activities before, inside each update and after as the
order workflow's happy path (read off tests/histories/order_happy_path.json)."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from workflows import retry_policies

BEFORE = 6  # record, reserve, project, allocate, project (requests), project (status)
PER_UPDATE = {"accept": 1, "pick": 2, "pack": 1, "ship": 2}
AFTER = 1


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

    async def _steps(self, name: str, count: int) -> None:
        for _ in range(count):
            await workflow.execute_activity(
                do_nothing, Nothing(name), start_to_close_timeout=retry_policies.ORDER_STEP_TIMEOUT
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
