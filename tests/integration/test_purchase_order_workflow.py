"""The purchase order workflow on the time-skipping Temporal server and a real
Postgres: incoming up when created, partial receipts, closing by itself, the late
alert on a durable timer that resolves itself, close short."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from contracts.purchasing import (
    ClosePurchaseOrderInput,
    PoLineInput,
    PoReceiveLineInput,
    PurchaseOrderInput,
    PurchaseOrderView,
    ReceivePurchaseOrderInput,
    RescheduleLineInput,
    ReschedulePurchaseOrderInput,
    purchase_order_workflow_id,
)
from domain.purchasing import PurchaseOrderStatus
from tests.conftest import unique
from tests.integration.order_helpers import keep_history, quiet_history
from tests.integration.stock_world import World
from worker import build_worker
from workflows.purchase_order import PurchaseOrderWorkflow

Handle = WorkflowHandle[PurchaseOrderWorkflow, PurchaseOrderView]
DAY = timedelta(days=1)


@pytest.fixture(scope="module")
async def task_queue(
    time_skipping_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[str]:
    queue = unique("purchasing")
    async with build_worker(time_skipping_env.client, sessions, queue):
        yield queue


async def _start(
    env: WorkflowEnvironment, queue: str, world: World, *lines: tuple[str, int, datetime]
) -> Handle:
    data = PurchaseOrderInput(
        tenant_id=world.tenant_id,
        po_number=unique("PO"),
        supplier="ACME",
        warehouse="WH1",
        lines=[
            PoLineInput(line_no=n + 1, sku=sku, quantity=q, expected_at=at)
            for n, (sku, q, at) in enumerate(lines)
        ],
    )
    handle = await env.client.start_workflow(
        PurchaseOrderWorkflow.run,
        data,
        task_queue=queue,
        id=purchase_order_workflow_id(world.tenant_id, data.po_number),
        memo={"request_hash": "the request"},
    )
    await _wait(handle, lambda v: v.created_at is not None)  # recorded
    return handle


async def _wait(handle: Handle, test: Callable[[PurchaseOrderView], bool]) -> PurchaseOrderView:
    view: PurchaseOrderView | None = None
    for _ in range(400):
        view = await handle.query(PurchaseOrderWorkflow.status)
        if test(view):
            return view
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition not reached; last view: {view}")


def _receipt(*lines: tuple[int, str, int]) -> ReceivePurchaseOrderInput:
    return ReceivePurchaseOrderInput(
        location="DOCK",
        lines=[PoReceiveLineInput(line_no=no, sku=sku, quantity=q) for no, sku, q in lines],
    )


async def _alerts(world: World) -> list[Any]:
    async with world.sessions() as session:
        rows = await session.execute(
            text(
                "SELECT key, kind, resolved_at IS NOT NULL AS resolved, message FROM alerts"
                " WHERE tenant_id = :t AND kind = 'late_po'"
            ),
            {"t": world.tenant_id},
        )
        return [tuple(r) for r in rows]


async def test_partial_receipts_then_the_po_closes_itself_when_every_line_is_in(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    soon = await time_skipping_env.get_current_time() + 5 * DAY
    handle = await _start(
        time_skipping_env, task_queue, world, ("WIDGET", 10, soon), ("GADGET", 4, soon)
    )
    assert (await world.level("WIDGET"))["incoming"] == 10
    assert (await world.level("GADGET"))["incoming"] == 4

    view = await handle.execute_update(PurchaseOrderWorkflow.receive, _receipt((1, "WIDGET", 6)))
    assert view.status is PurchaseOrderStatus.OPEN
    assert [x.received for x in view.lines] == [6, 0]
    assert await world.level("WIDGET") == {
        "on_hand": 6,
        "reserved": 0,
        "allocated": 0,
        "in_transit": 0,
        "incoming": 4,
    }
    await handle.execute_update(
        PurchaseOrderWorkflow.receive, _receipt((1, "WIDGET", 4), (2, "GADGET", 4))
    )
    done = await handle.result()
    assert done.status is PurchaseOrderStatus.RECEIVED and done.closed_at is not None
    assert (await world.level("WIDGET"))["incoming"] == 0
    assert (await world.level("GADGET"))["on_hand"] == 4
    assert await _alerts(world) == []
    await keep_history(handle, "purchase_order_partial_receipts")


async def test_a_receipt_beyond_the_tolerance_is_refused_and_changes_nothing(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    soon = await time_skipping_env.get_current_time() + DAY
    handle = await _start(time_skipping_env, task_queue, world, ("WIDGET", 10, soon))
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(PurchaseOrderWorkflow.receive, _receipt((1, "WIDGET", 11)))
    assert "lines.0 (PO line 1, WIDGET)" in str(refused.value.cause)
    assert await world.level("WIDGET") == {
        "on_hand": 0,
        "reserved": 0,
        "allocated": 0,
        "in_transit": 0,
        "incoming": 10,
    }
    await handle.execute_update(
        PurchaseOrderWorkflow.close,
        ClosePurchaseOrderInput(status=PurchaseOrderStatus.CANCELED, reason="ordered twice"),
    )
    assert (await handle.result()).status is PurchaseOrderStatus.CANCELED
    assert (await world.level("WIDGET"))["incoming"] == 0


async def test_a_late_po_raises_one_alert_that_resolves_when_it_is_received(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    due = await time_skipping_env.get_current_time() + 2 * DAY
    handle = await _start(time_skipping_env, task_queue, world, ("WIDGET", 5, due))
    await time_skipping_env.sleep(DAY)
    await quiet_history(handle)
    assert await _alerts(world) == []

    await time_skipping_env.sleep(2 * DAY)
    view = await _wait(handle, lambda v: v.alerted)
    [(key, kind, resolved, message)] = await _alerts(world)
    assert (key, kind, resolved) == (f"late_po:{view.po_number}", "late_po", False)
    assert "chase the supplier" in message.lower() and "reschedule" in message
    await time_skipping_env.sleep(3 * DAY)  # alerted once, not again
    await quiet_history(handle)
    assert len(await _alerts(world)) == 1

    await handle.execute_update(PurchaseOrderWorkflow.receive, _receipt((1, "WIDGET", 5)))
    assert (await handle.result()).status is PurchaseOrderStatus.RECEIVED
    [(_, _, resolved, _)] = await _alerts(world)
    assert resolved
    await keep_history(handle, "purchase_order_late")


async def test_rescheduling_a_late_po_resolves_its_alert_and_rearms_the_timer(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    due = await time_skipping_env.get_current_time() + DAY
    handle = await _start(time_skipping_env, task_queue, world, ("WIDGET", 5, due))
    await time_skipping_env.sleep(2 * DAY)
    await _wait(handle, lambda v: v.alerted)

    later = await time_skipping_env.get_current_time() + 3 * DAY
    view = await handle.execute_update(
        PurchaseOrderWorkflow.reschedule,
        ReschedulePurchaseOrderInput(lines=[RescheduleLineInput(line_no=1, expected_at=later)]),
    )
    assert view.lines[0].expected_at == later
    await _wait(handle, lambda v: not v.alerted)
    [(_, _, resolved, _)] = await _alerts(world)
    assert resolved

    await time_skipping_env.sleep(4 * DAY)  # the new date passes: the alert opens again
    await _wait(handle, lambda v: v.alerted)
    [(_, _, resolved, _)] = await _alerts(world)
    assert not resolved


async def test_close_short_releases_what_is_outstanding_and_resolves_the_alert(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    due = await time_skipping_env.get_current_time() + DAY
    handle = await _start(time_skipping_env, task_queue, world, ("WIDGET", 8, due))
    await handle.execute_update(PurchaseOrderWorkflow.receive, _receipt((1, "WIDGET", 3)))
    await time_skipping_env.sleep(2 * DAY)
    await _wait(handle, lambda v: v.alerted)

    with pytest.raises(WorkflowUpdateFailedError):  # something came: no cancel
        await handle.execute_update(
            PurchaseOrderWorkflow.close,
            ClosePurchaseOrderInput(status=PurchaseOrderStatus.CANCELED, reason="not needed"),
        )
    await handle.execute_update(
        PurchaseOrderWorkflow.close,
        ClosePurchaseOrderInput(status=PurchaseOrderStatus.CLOSED, reason="supplier out"),
    )
    done = await handle.result()
    assert done.status is PurchaseOrderStatus.CLOSED and done.reason == "supplier out"
    assert await world.level("WIDGET") == {
        "on_hand": 3,
        "reserved": 0,
        "allocated": 0,
        "in_transit": 0,
        "incoming": 0,
    }
    [(_, _, resolved, _)] = await _alerts(world)
    assert resolved
    await keep_history(handle, "purchase_order_closed_short")
