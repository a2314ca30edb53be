"""The fixed floor of bench/saga.py: the Temporal work no order can skip, with no
business in it.

A workflow of 4 no-op activities through the task queue — reserve and allocate
before the warehouse's updates, pick inside the pick update, ship inside the ship
update — and the same 4 updates as an order (accept, pick, pack, ship). No local
activities, no database, no projection. The bench starts and drives it with the
bare Temporal client, on the same dev server, with a worker in the bench's process.

It is FIXED: it must never change as the order workflow's shape changes (fewer
activities, local ones, merged steps...). A leaner order saga then raises the ratio
to this floor instead of moving the floor with it; issue 15's targets (orders/s and
CPU per order against this floor) are measured against exactly this shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow

STEP_TIMEOUT = timedelta(seconds=60)  # fixed here, not shared with the order workflow's


@dataclass(frozen=True, kw_only=True)
class FloorStep:
    step: str


@dataclass(frozen=True, kw_only=True)
class FloorInput:
    order_number: str


@activity.defn
async def do_nothing(data: FloorStep) -> FloorStep:
    return data


async def _nothing(step: str) -> None:
    """One no-op activity through the task queue."""
    await workflow.execute_activity(
        do_nothing, FloorStep(step=step), start_to_close_timeout=STEP_TIMEOUT
    )


@workflow.defn
class FloorWorkflow:
    def __init__(self) -> None:
        self.stage = "started"

    @workflow.run
    async def run(self, data: FloorInput) -> str:
        await _nothing("reserve")
        await _nothing("allocate")
        self.stage = "ready"
        await workflow.wait_condition(lambda: self.stage == "shipped")
        return data.order_number

    @workflow.query
    def status(self) -> str:
        return self.stage

    @workflow.update
    async def accept(self, data: FloorStep) -> str:
        self.stage = "accepted"
        return self.stage

    @workflow.update
    async def pick(self, data: FloorStep) -> str:
        await _nothing("pick")
        self.stage = "picked"
        return self.stage

    @workflow.update
    async def pack(self, data: FloorStep) -> str:
        self.stage = "packed"
        return self.stage

    @workflow.update
    async def ship(self, data: FloorStep) -> str:
        await _nothing("ship")
        self.stage = "shipped"
        return self.stage
