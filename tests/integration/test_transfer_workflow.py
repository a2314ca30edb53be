"""The transfer workflow on the time-skipping Temporal server and a real Postgres."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from contracts.transfers import (
    CancelTransferInput,
    ReceiveLineInput,
    ReceiveTransferInput,
    ShipTransferInput,
    TransferInput,
    TransferLineInput,
    TransferView,
    transfer_workflow_id,
)
from domain.transfers import TransferStatus
from tests.conftest import unique
from tests.integration.order_helpers import keep_history, quiet_history
from tests.integration.stock_world import World
from worker import build_worker
from workflows import search_attributes
from workflows.transfer.workflow import NO_REASON_GIVEN, TransferWorkflow

ALERT_AFTER = 3600
ZERO = {"reserved": 0, "allocated": 0, "in_transit": 0, "incoming": 0}

Handle = WorkflowHandle[TransferWorkflow, TransferView]


@pytest.fixture(scope="module")
async def task_queue(
    time_skipping_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[str]:
    queue = unique("transfers")
    async with build_worker(time_skipping_env.client, sessions, queue):
        yield queue


async def _start(
    env: WorkflowEnvironment,
    queue: str,
    world: World,
    lines: list[TransferLineInput],
    history_limit: int | None = None,
) -> Handle:
    data = TransferInput(
        tenant_id=world.tenant_id,
        transfer_number=unique("TR"),
        from_warehouse="WH1",
        to_warehouse="WH2",
        lines=lines,
        alert_after_seconds=ALERT_AFTER,
        history_limit=history_limit,
    )
    return await env.client.start_workflow(
        TransferWorkflow.run,
        data,
        task_queue=queue,
        id=transfer_workflow_id(world.tenant_id, data.transfer_number),
        memo={"request_hash": "the request"},
    )


async def _wait(handle: Handle, test: Callable[[TransferView], bool]) -> TransferView:
    view: TransferView | None = None
    for _ in range(400):
        view = await handle.query(TransferWorkflow.status)
        if test(view):
            return view
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition not reached; last view: {view}")


async def _refused(handle: Handle, update: Any, arg: Any) -> str:
    """The refusal's message (the update must fail)."""
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(update, arg)
    return str(refused.value.cause)


def _is(status: TransferStatus) -> Callable[[TransferView], bool]:
    return lambda view: view.status is status


async def _alerts(world: World) -> list[Any]:
    async with world.sessions() as session:
        rows = await session.execute(
            text("SELECT key, kind, reference_id FROM alerts WHERE tenant_id = :t"),
            {"t": world.tenant_id},
        )
        return [tuple(r) for r in rows]


async def _shipped(
    env: WorkflowEnvironment,
    queue: str,
    world: World,
    quantity: int,
    history_limit: int | None = None,
) -> Handle:
    await world.receive("WIDGET", 10)
    lines = [TransferLineInput(sku="WIDGET", quantity=quantity)]
    handle = await _start(env, queue, world, lines, history_limit)
    await _wait(handle, _is(TransferStatus.RESERVED))
    await handle.execute_update(
        TransferWorkflow.ship, ShipTransferInput(carrier="DHL", tracking_number="TRK-1")
    )
    return handle


async def test_partial_receipt_then_final_receipt_completes_the_transfer(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    handle = await _shipped(time_skipping_env, task_queue, world, 6)
    view = await handle.query(TransferWorkflow.status)
    assert view.status is TransferStatus.IN_TRANSIT and view.carrier == "DHL"
    assert await world.level("WIDGET", "WH1") == {"on_hand": 4, **ZERO, "in_transit": 6}
    assert await world.level("WIDGET", "WH2") == {"on_hand": 0, **ZERO, "incoming": 6}

    part = ReceiveTransferInput(location="A1", lines=[ReceiveLineInput(sku="WIDGET", received=4)])
    view = await handle.execute_update(TransferWorkflow.receive, part)
    assert view.status is TransferStatus.PARTIALLY_RECEIVED
    assert [(s.received, s.outstanding) for s in view.stock] == [(4, 2)]
    assert await world.level("WIDGET", "WH2") == {"on_hand": 4, **ZERO, "incoming": 2}

    rest = ReceiveTransferInput(
        location="A2", lines=[ReceiveLineInput(sku="WIDGET", received=1, reason="one lost")]
    )
    view = await handle.execute_update(TransferWorkflow.receive, rest)
    assert view.status is TransferStatus.COMPLETED
    assert [(s.shipped, s.received, s.written_off) for s in view.stock] == [(6, 5, 1)]
    result = await handle.result()
    assert result.status is TransferStatus.COMPLETED and not result.alerted
    assert await world.level("WIDGET", "WH1") == {"on_hand": 4, **ZERO}
    assert await world.level("WIDGET", "WH2") == {"on_hand": 5, **ZERO}
    await keep_history(handle, "transfer_partial_receipts")


async def test_a_wrong_receipt_is_refused_before_anything_is_done(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    handle = await _shipped(time_skipping_env, task_queue, world, 6)
    events = await quiet_history(handle)
    ledger = await world.ledger_size()
    for lines, why in (
        ([ReceiveLineInput(sku="WIDGET", received=7)], "only 6 of 6 shipped is outstanding"),
        ([ReceiveLineInput(sku="GADGET", received=1)], "GADGET was not shipped"),
        ([ReceiveLineInput(sku="WIDGET", received=0)], "give a reason"),
    ):
        receipt = ReceiveTransferInput(location="A1", lines=lines)
        assert why in await _refused(handle, TransferWorkflow.receive, receipt)
    shipped = await _refused(handle, TransferWorkflow.ship, ShipTransferInput(carrier="DHL"))
    assert "already shipped" in shipped
    # The test server writes a workflow task per refused update (the dev server
    # nothing at all: tests/e2e); no update was accepted, no activity scheduled.
    new = (await handle.fetch_history()).events[events:]
    assert not any(
        e.HasField("workflow_execution_update_accepted_event_attributes")
        or e.HasField("activity_task_scheduled_event_attributes")
        for e in new
    )
    assert await world.ledger_size() == ledger


async def test_cancel_before_shipping_releases_the_reservation(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("WIDGET", 10)
    handle = await _start(
        time_skipping_env, task_queue, world, [TransferLineInput(sku="WIDGET", quantity=6)]
    )
    await _wait(handle, _is(TransferStatus.RESERVED))
    assert (await world.level("WIDGET"))["reserved"] == 6
    early = ReceiveTransferInput(location="A1", lines=[ReceiveLineInput(sku="WIDGET", received=1)])
    assert "only a shipped transfer" in await _refused(handle, TransferWorkflow.receive, early)
    view = await handle.execute_update(
        TransferWorkflow.cancel, CancelTransferInput(reason="not needed")
    )
    assert view.status is TransferStatus.CANCELED
    assert (await handle.result()).status is TransferStatus.CANCELED
    assert await world.level("WIDGET") == {"on_hand": 10, **ZERO}
    await keep_history(handle, "transfer_canceled_before_ship")


async def test_a_cancel_without_a_reason_still_says_why(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("WIDGET", 2)
    handle = await _start(
        time_skipping_env, task_queue, world, [TransferLineInput(sku="WIDGET", quantity=2)]
    )
    await _wait(handle, _is(TransferStatus.RESERVED))
    view = await handle.execute_update(TransferWorkflow.cancel, CancelTransferInput())
    assert view.status is TransferStatus.CANCELED
    assert view.reason == NO_REASON_GIVEN


async def test_cancel_after_shipping_is_refused(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    handle = await _shipped(time_skipping_env, task_queue, world, 3)
    refusal = await _refused(handle, TransferWorkflow.cancel, CancelTransferInput())
    assert "has shipped" in refusal
    assert (await handle.query(TransferWorkflow.status)).status is TransferStatus.IN_TRANSIT
    assert (await world.level("WIDGET", "WH1"))["in_transit"] == 3
    await handle.execute_update(
        TransferWorkflow.receive,
        ReceiveTransferInput(location="A1", lines=[ReceiveLineInput(sku="WIDGET", received=3)]),
    )
    assert (await handle.result()).status is TransferStatus.COMPLETED


async def test_a_shortage_at_the_source_rejects_the_transfer(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("WIDGET", 2)
    handle = await _start(
        time_skipping_env, task_queue, world, [TransferLineInput(sku="WIDGET", quantity=5)]
    )
    result = await handle.result()
    assert result.status is TransferStatus.REJECTED
    assert result.reason is not None and "not enough stock" in result.reason
    assert result.reason.startswith("step reserve_transfer failed: ")
    assert await world.level("WIDGET") == {"on_hand": 2, **ZERO}


async def test_in_transit_too_long_raises_one_alert(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    handle = await _shipped(time_skipping_env, task_queue, world, 4)
    await time_skipping_env.sleep(ALERT_AFTER - 60)
    await quiet_history(handle)
    assert await _alerts(world) == []
    assert not (await handle.query(TransferWorkflow.status)).alerted

    await time_skipping_env.sleep(120)
    view = await _wait(handle, lambda v: v.alerted)
    assert view.status is TransferStatus.IN_TRANSIT
    number = view.transfer_number
    await time_skipping_env.sleep(5 * ALERT_AFTER)
    await quiet_history(handle)
    kind = "transfer_in_transit"
    assert await _alerts(world) == [(f"{kind}:{number}", kind, number)]

    await handle.execute_update(
        TransferWorkflow.receive,
        ReceiveTransferInput(location="A1", lines=[ReceiveLineInput(sku="WIDGET", received=4)]),
    )
    assert (await handle.result()).status is TransferStatus.COMPLETED
    await keep_history(handle, "transfer_in_transit_alert")


LIMIT = 40  # events per run (the workflow's own bound is 2,000)


async def _run_that_took(client: Client, first: Handle, update_id: str) -> str:
    """The id of the run (of those continued from `first`) that took the update."""
    handle = first
    while True:
        events = (await handle.fetch_history()).events
        for event in events:
            accepted = event.workflow_execution_update_accepted_event_attributes
            if accepted.accepted_request.meta.update_id == update_id:
                assert handle.run_id is not None
                return handle.run_id
        continued = events[-1].workflow_execution_continued_as_new_event_attributes
        assert continued.new_execution_run_id, f"no run took {update_id}"
        handle = client.get_workflow_handle(handle.id, run_id=continued.new_execution_run_id)


async def test_a_long_transit_continues_as_new_with_its_state_and_alerts_once(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    started = await _shipped(time_skipping_env, task_queue, world, 9, history_limit=LIMIT)
    client = time_skipping_env.client
    first: Handle = client.get_workflow_handle(
        started.id, run_id=started.first_execution_run_id, result_type=TransferView
    )
    latest: Handle = client.get_workflow_handle(started.id, result_type=TransferView)  # latest run
    receipts = []
    one = ReceiveTransferInput(location="A1", lines=[ReceiveLineInput(sku="WIDGET", received=1)])
    for n in range(1, 5):  # one unit at a time: each receipt grows the history
        view = await latest.execute_update(TransferWorkflow.receive, one, id=f"receipt-{n}")
        receipts.append(view.receipts[-1])
        assert [(s.received, s.outstanding) for s in view.stock] == [(n, 9 - n)]

    described = await latest.describe()
    assert described.run_id != started.first_execution_run_id
    events = (await first.fetch_history()).events
    assert events[-1].HasField("workflow_execution_continued_as_new_event_attributes")
    continued = await latest.query(TransferWorkflow.status)
    assert continued.status is TransferStatus.PARTIALLY_RECEIVED
    assert (continued.carrier, continued.tracking_number) == ("DHL", "TRK-1")
    assert continued.receipts == receipts and not continued.alerted
    attributes = described.typed_search_attributes
    assert attributes.get(search_attributes.TRANSFER_STATUS) == "partially_received"
    assert await described.memo_value("request_hash") == "the request"
    # A step repeated (same update id) after its run continued acts no second time.
    assert await _run_that_took(client, first, "receipt-1") != described.run_id
    repeated = await latest.execute_update(TransferWorkflow.receive, one, id="receipt-1")
    assert repeated.receipts == receipts
    assert [(s.received, s.outstanding) for s in repeated.stock] == [(4, 5)]

    # The alert is due from the shipment, not from the continued run's start.
    await time_skipping_env.sleep(ALERT_AFTER + 60)
    view = await _wait(latest, lambda v: v.alerted)
    kind = "transfer_in_transit"
    assert await _alerts(world) == [(f"{kind}:{view.transfer_number}", kind, view.transfer_number)]
    rest = ReceiveLineInput(sku="WIDGET", received=5)
    await latest.execute_update(
        TransferWorkflow.receive, ReceiveTransferInput(location="A1", lines=[rest])
    )
    done = await latest.result()
    assert done.status is TransferStatus.COMPLETED and done.alerted
    assert [(s.shipped, s.received) for s in done.stock] == [(9, 9)]
    assert len(await _alerts(world)) == 1
    assert await world.level("WIDGET", "WH2") == {"on_hand": 9, **ZERO}
    async with world.sessions() as session:
        status, version = (
            await session.execute(
                text(
                    "SELECT status, version FROM transfers"
                    " WHERE tenant_id = :t AND transfer_number = :n"
                ),
                {"t": world.tenant_id, "n": done.transfer_number},
            )
        ).one()
    assert (status, version) == ("completed", done.version)
    await keep_history(first, "transfer_continued_as_new")
    await keep_history(latest, "transfer_continued_run_completed")
