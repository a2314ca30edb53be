"""The backorder sweep wakes a waiting order only for stock allocation could take:
never for an expired lot, a held lot or units on a dock (the order would reserve,
fail to allocate, give back and wait, every minute, forever). Real Postgres and the
time-skipping Temporal server; wake-ups are counted in the order's history."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from db.stock.returns import receive_return
from domain.orders import OrderStatus
from domain.stock import ReceiveReturn, ReturnReceiptLine
from tests.conftest import unique
from tests.integration.order_helpers import fulfil, order_input, start, wait_for
from tests.integration.stock_world import World
from worker import build_worker
from workflows.backorder_wakeup import BackorderWakeupInput, BackorderWakeupWorkflow

TODAY = datetime.now(UTC).date()
SWEEPS = 20


@pytest.fixture(scope="module")
async def task_queue(
    time_skipping_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[str]:
    queue = unique("wakeups")
    async with build_worker(time_skipping_env.client, sessions, queue):
        yield queue


async def _sweep(env: WorkflowEnvironment, task_queue: str) -> list[str]:
    """One scheduled run of the sweep; the workflow ids it woke."""
    result = await env.client.execute_workflow(
        BackorderWakeupWorkflow.run,
        BackorderWakeupInput(),
        id=unique("wakeup"),
        task_queue=task_queue,
    )
    return result.woken


async def _wake_ups(handle: WorkflowHandle[Any, Any]) -> int:
    """stock_arrived signals the order received."""
    history = await handle.fetch_history()
    return sum(
        1
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
        and event.workflow_execution_signaled_event_attributes.signal_name == "stock_arrived"
    )


async def _reserve_attempts(handle: WorkflowHandle[Any, Any]) -> int:
    history = await handle.fetch_history()
    return sum(
        1
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and event.activity_task_scheduled_event_attributes.activity_type.name == "reserve_lines"
    )


async def test_stock_the_order_cannot_allocate_never_wakes_it_and_a_good_receipt_does(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    # YOGURT's stock: an expired lot in a bin, a good lot still on the dock, a lot
    # on hold (returned for repair): on hand 9, none of it allocatable.
    await world.receive("YOGURT", 5, lot="OLD", expires_on=TODAY - timedelta(days=1))
    await world.receive(
        "YOGURT", 3, lot="DOCKED", expires_on=TODAY + timedelta(days=30), location="DOCK"
    )
    line = ReturnReceiptLine("1", "YOGURT", 1, 1, "repair", "DOCKED")
    await receive_return(
        world.sessions, world.caller(), ReceiveReturn(0, unique("RMA"), "WH1", "A1", [line])
    )
    assert (await world.level("YOGURT"))["on_hand"] == 9

    handle = await start(time_skipping_env.client, task_queue, order_input(world, [("YOGURT", 2)]))
    try:
        # No skipped time while we sweep: the order's own hourly retry stays out of it.
        with time_skipping_env.auto_time_skipping_disabled():
            await wait_for(handle, lambda v: v.status is OrderStatus.BACKORDERED)
            woken = [await _sweep(time_skipping_env, task_queue) for _ in range(SWEEPS)]
            assert not any(handle.id in ids for ids in woken)
            assert (await _wake_ups(handle), await _reserve_attempts(handle)) == (0, 1)
            await wait_for(handle, lambda v: v.status is OrderStatus.BACKORDERED)

            # A good receipt into a bin, which signals nobody: the next sweep wakes it.
            await world.receive("YOGURT", 2, lot="GOOD", expires_on=TODAY + timedelta(days=30))
            assert handle.id in await _sweep(time_skipping_env, task_queue)
            view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
            assert (await _wake_ups(handle), await _reserve_attempts(handle)) == (1, 2)
        assert [a.lot for r in view.fulfillment_requests for a in r.allocations] == ["GOOD"]
        await fulfil(handle, view)
        assert [x.shipped for x in (await handle.result()).lines] == [2]
        assert await world.violations() == []
    finally:
        with contextlib.suppress(RPCError):  # never leave it waiting without a worker
            await handle.terminate("test over")
