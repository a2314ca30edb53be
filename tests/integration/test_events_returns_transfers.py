"""Return and transfer events from their workflows' projection writes (time-skipping
Temporal, real PostgreSQL): a life makes exactly its events, in order, each once; a
projection written again (a retried activity) makes none."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.event_render import EventRenderer
from contracts.returns import CloseInput, DecisionInput, ReceivedLineInput, ReceiveInput
from contracts.transfers import (
    CancelTransferInput,
    ReceiveLineInput,
    ReceiveTransferInput,
    TransferLineInput,
)
from db.transfers import TRANSFER_VIEW, TransferProjection
from domain.returns import Disposition
from domain.transfers import TransferStatus
from tests.conftest import unique
from tests.integration.event_helpers import feed, story
from tests.integration.stock_world import World
from tests.integration.test_return_workflow import _request, _shipped_order
from tests.integration.test_transfer_workflow import _is, _shipped, _start, _wait
from worker import build_worker
from workflows.returns.workflow import ReturnWorkflow
from workflows.transfer.workflow import TransferWorkflow


@pytest.fixture(scope="module")
async def task_queue(
    time_skipping_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[str]:
    queue = unique("subject-events")
    async with build_worker(time_skipping_env.client, sessions, queue):
        yield queue


async def test_a_returns_life_makes_its_events_in_order_and_closed_carries_the_refund(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    number = await _shipped_order(world, time_skipping_env, task_queue)
    handle = await _request(world, time_skipping_env, task_queue, number, 3)
    await handle.execute_update(ReturnWorkflow.approve, DecisionInput())
    receipt = ReceiveInput(
        warehouse="WH1",
        location="A2",
        lines=[
            ReceivedLineInput(line_id="L0", received=3, accepted=2, disposition=Disposition.RESTOCK)
        ],
    )
    await handle.execute_update(ReturnWorkflow.receive, receipt)
    await handle.execute_update(ReturnWorkflow.close, CloseInput())
    await handle.result()
    rma = handle.id.split(":")[-1]
    events = await feed(world.sessions, world.tenant_id, "return.*")
    assert story(events) == [
        ("return.requested", rma, 1),
        ("return.approved", rma, 2),
        ("return.received", rma, 3),
        ("return.closed", rma, 4),
    ]
    closed = (await EventRenderer(world.sessions).envelopes(events[-1:]))[0]
    assert closed["subject"] == {"type": "return", "id": rma}
    assert closed["data"]["status"] == "closed"
    assert closed["data"]["refund"]["currency"] == "EUR"
    assert closed["data"]["refund"]["amount"] == "19.80"


async def test_a_rejected_return_says_requested_then_rejected(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    number = await _shipped_order(world, time_skipping_env, task_queue)
    handle = await _request(world, time_skipping_env, task_queue, number, 4)
    await handle.execute_update(ReturnWorkflow.reject, DecisionInput(reason="too late"))
    await handle.result()
    assert [e.type for e in await feed(world.sessions, world.tenant_id, "return.*")] == [
        "return.requested",
        "return.rejected",
    ]


async def test_a_transfers_life_says_shipped_received_per_receipt_and_completed_once(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    handle = await _shipped(time_skipping_env, task_queue, world, 6)
    for received, reason in ((4, None), (1, "one lost")):
        line = ReceiveLineInput(sku="WIDGET", received=received, reason=reason)
        receipt = ReceiveTransferInput(location="A1", lines=[line])
        await handle.execute_update(TransferWorkflow.receive, receipt)
    final = await handle.result()
    assert final.status is TransferStatus.COMPLETED
    number = final.transfer_number
    events = await feed(world.sessions, world.tenant_id, "transfer.*")
    # A late write of an older version (a retried activity), then the last again:
    # neither changes the row, so neither makes an event.
    projection = TransferProjection(world.sessions)
    await projection.update(TRANSFER_VIEW.validate_python(events[0].data))
    await projection.update(final)
    assert len(await feed(world.sessions, world.tenant_id, "transfer.*")) == len(events)
    assert story(events) == [
        ("transfer.shipped", number, 1),
        ("transfer.received", number, 2),
        ("transfer.received", number, 3),
        ("transfer.completed", number, 4),
    ]
    shipped = (await EventRenderer(world.sessions).envelopes(events[:1]))[0]["data"]
    assert (shipped["status"], shipped["carrier"]) == ("in_transit", "DHL")
    assert [len(e.data["receipts"]) for e in events] == [0, 1, 2, 2]


async def test_a_transfer_canceled_before_shipping_says_only_canceled(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("WIDGET", 10)
    lines = [TransferLineInput(sku="WIDGET", quantity=6)]
    handle = await _start(time_skipping_env, task_queue, world, lines)
    await _wait(handle, _is(TransferStatus.RESERVED))
    await handle.execute_update(TransferWorkflow.cancel, CancelTransferInput(reason="not needed"))
    await handle.result()
    assert [e.type for e in await feed(world.sessions, world.tenant_id, "transfer.*")] == [
        "transfer.canceled"
    ]
