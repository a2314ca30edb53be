"""The return workflow on the time-skipping server: the window expires, a rejection
and a full life give their claims back or book exactly what came back."""

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from contracts.returns import (
    CloseInput,
    DecisionInput,
    ReceivedLineInput,
    ReceiveInput,
    ReturnInput,
    ReturnLineInput,
    ReturnView,
    return_workflow_id,
)
from db.returns import open_return
from domain.errors import InvalidInput
from domain.orders import OrderStatus
from domain.returns import Disposition, ReturnStatus
from tests.conftest import unique
from tests.integration.order_helpers import fulfil, keep_history, order_input, start, wait_for
from tests.integration.stock_world import World
from worker import build_worker
from workflows.returns.workflow import ReturnWorkflow

DAY = 24 * 3600


@pytest.fixture(scope="module")
async def task_queue(
    time_skipping_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[str]:
    queue = unique("returns")
    async with build_worker(time_skipping_env.client, sessions, queue):
        yield queue


async def _shipped_order(world: World, env: WorkflowEnvironment, queue: str) -> str:
    """An order of 4 WIDGET at 9.90, shipped."""
    await world.receive("WIDGET", 10)
    order = order_input(world, [("WIDGET", 4)])
    handle = await start(env.client, queue, order)
    view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    await fulfil(handle, view)
    assert (await handle.result()).status is OrderStatus.SHIPPED
    return order.order_number


async def _request(
    world: World,
    env: WorkflowEnvironment,
    queue: str,
    order_number: str,
    quantity: int,
    window: int = 30 * DAY,
    expires_at: str | None = None,
    history_limit: int | None = None,
) -> WorkflowHandle[ReturnWorkflow, ReturnView]:
    rma = unique("RMA")
    workflow_id = return_workflow_id(world.tenant_id, rma)
    async with world.sessions() as session, session.begin():
        opened = await open_return(
            session,
            world.tenant_id,
            order_number,
            rma,
            "damaged",
            [("L0", quantity)],
            rma,
            workflow_id,
        )
    data = ReturnInput(
        tenant_id=world.tenant_id,
        return_id=opened.return_id,
        rma_number=rma,
        order_number=order_number,
        currency="EUR",
        reason="damaged",
        lines=[
            ReturnLineInput(
                line_id=x.line_id,
                sku=x.sku,
                requested=x.requested,
                unit_price=x.unit_price,
                unit_size=1,
            )
            for x in opened.lines
        ],
        window_seconds=window,
        expires_at=expires_at,
        history_limit=history_limit,
    )
    return await env.client.start_workflow(
        ReturnWorkflow.run, data, id=workflow_id, task_queue=queue
    )


async def _claimable(world: World, order_number: str, quantity: int) -> bool:
    """Whether a return of `quantity` of line L0 would be accepted now."""
    async with world.sessions() as session, session.begin():
        try:
            await open_return(
                session,
                world.tenant_id,
                order_number,
                unique("RMA"),
                "probe",
                [("L0", quantity)],
                "probe",
                "probe",
            )
        except InvalidInput:
            return False
        await session.rollback()
        return True


async def test_a_return_expires_when_nothing_arrives(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    number = await _shipped_order(world, time_skipping_env, task_queue)
    handle = await _request(world, time_skipping_env, task_queue, number, 3, window=7 * DAY)
    await handle.execute_update(ReturnWorkflow.approve, DecisionInput(reason="ok"))
    assert not await _claimable(world, number, 2)  # 3 of 4 are claimed
    result = await handle.result()  # the server skips the window's time
    assert result.status is ReturnStatus.EXPIRED
    assert await world.level("WIDGET") == {
        "on_hand": 6,
        "reserved": 0,
        "allocated": 0,
        "in_transit": 0,
        "incoming": 0,
    }
    assert await _claimable(world, number, 4)  # the claim was given back
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):  # too late: it has ended
        await handle.execute_update(
            ReturnWorkflow.receive,
            ReceiveInput(
                warehouse="WH1",
                location="A1",
                lines=[
                    ReceivedLineInput(
                        line_id="L0", received=3, accepted=3, disposition=Disposition.RESTOCK
                    )
                ],
            ),
        )
    await keep_history(handle, "return_expired")


async def test_a_received_return_does_not_expire_and_closes_with_a_refund(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    number = await _shipped_order(world, time_skipping_env, task_queue)
    handle = await _request(world, time_skipping_env, task_queue, number, 3, window=DAY)
    with pytest.raises(WorkflowUpdateFailedError):  # not approved yet
        await handle.execute_update(ReturnWorkflow.close, CloseInput())
    await handle.execute_update(ReturnWorkflow.approve, DecisionInput())
    receipt = ReceiveInput(
        warehouse="WH1",
        location="A2",
        lines=[
            ReceivedLineInput(line_id="L0", received=3, accepted=2, disposition=Disposition.RESTOCK)
        ],
    )
    view = await handle.execute_update(ReturnWorkflow.receive, receipt)
    assert view.status is ReturnStatus.RECEIVED
    await time_skipping_env.sleep(2 * DAY)  # past the window: received returns stay
    assert (await handle.query(ReturnWorkflow.status)).status is ReturnStatus.RECEIVED
    closed = await handle.execute_update(ReturnWorkflow.close, CloseInput())
    assert (closed.status, closed.refund_amount) == (ReturnStatus.CLOSED, "19.80")
    assert (await handle.result()).status is ReturnStatus.CLOSED
    assert await world.balance("WIDGET", "A2") == (2, 0)
    assert await world.level("WIDGET") == {
        "on_hand": 8,
        "reserved": 0,
        "allocated": 0,
        "in_transit": 0,
        "incoming": 0,
    }
    async with world.sessions() as session:
        status, returned = (
            await session.execute(
                text(
                    "SELECT o.status, l.returned FROM orders o"
                    " JOIN order_lines l ON l.order_id = o.id"
                    " WHERE o.tenant_id = :t AND o.order_number = :n"
                ),
                {"t": world.tenant_id, "n": number},
            )
        ).one()
    assert (status, returned) == ("partially_returned", 3)
    assert not await _claimable(world, number, 2)  # 3 came back: 1 left
    assert await _claimable(world, number, 1)
    assert Decimal(closed.refund_amount or "0") == Decimal("2") * Decimal("9.90")
    await keep_history(handle, "return_happy_path")


async def test_a_rejected_return_gives_its_claim_back(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    number = await _shipped_order(world, time_skipping_env, task_queue)
    handle = await _request(world, time_skipping_env, task_queue, number, 4)
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(ReturnWorkflow.reject, DecisionInput(reason=""))  # no reason
    assert not await _claimable(world, number, 1)
    rejected = await handle.execute_update(ReturnWorkflow.reject, DecisionInput(reason="too late"))
    assert rejected.status is ReturnStatus.REJECTED
    assert (await handle.result()).status is ReturnStatus.REJECTED
    assert await _claimable(world, number, 4)
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):
        await handle.execute_update(ReturnWorkflow.approve, DecisionInput())
    await keep_history(handle, "return_rejected")


async def test_the_deadline_given_at_request_time_is_kept(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    """The API answers the request with its deadline; the workflow keeps that one,
    however late a worker picks the return up, and one already past expires at once."""
    number = await _shipped_order(world, time_skipping_env, task_queue)
    now = await time_skipping_env.get_current_time()
    deadline = now + timedelta(days=2)
    handle = await _request(
        world, time_skipping_env, task_queue, number, 1, window=DAY, expires_at=deadline.isoformat()
    )
    await handle.execute_update(ReturnWorkflow.approve, DecisionInput())
    await time_skipping_env.sleep(timedelta(days=1, hours=12))  # past the window, not the deadline
    view = await handle.query(ReturnWorkflow.status)
    assert (view.status, view.expires_at) == (ReturnStatus.APPROVED, deadline.isoformat())
    assert (await handle.result()).status is ReturnStatus.EXPIRED

    past = await _request(
        world,
        time_skipping_env,
        task_queue,
        number,
        1,
        expires_at=(now - timedelta(hours=1)).isoformat(),
    )
    assert (await past.result()).status is ReturnStatus.EXPIRED


async def test_a_return_continues_as_new_keeping_its_state_and_deadline(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    number = await _shipped_order(world, time_skipping_env, task_queue)
    started = await _request(
        world, time_skipping_env, task_queue, number, 3, window=DAY, history_limit=20
    )
    client = time_skipping_env.client
    first: WorkflowHandle[ReturnWorkflow, ReturnView] = client.get_workflow_handle(
        started.id, run_id=started.first_execution_run_id, result_type=ReturnView
    )
    latest: WorkflowHandle[ReturnWorkflow, ReturnView] = client.get_workflow_handle(
        started.id, result_type=ReturnView
    )
    approved = await latest.execute_update(ReturnWorkflow.approve, DecisionInput(reason="ok"))
    events = (await first.fetch_history()).events  # (the update finished before it continued)
    for _ in range(100):
        if events[-1].HasField("workflow_execution_continued_as_new_event_attributes"):
            break
        await time_skipping_env.sleep(0.05)
        events = (await first.fetch_history()).events
    assert events[-1].HasField("workflow_execution_continued_as_new_event_attributes")
    continued = await latest.query(ReturnWorkflow.status)
    assert continued == approved
    assert (continued.status, continued.decision_reason) == (ReturnStatus.APPROVED, "ok")

    # The deadline stays the first run's: nothing received within the day expires it.
    await time_skipping_env.sleep(DAY + 60)
    expired = await latest.result()
    assert expired.status is ReturnStatus.EXPIRED
    assert expired.expires_at == approved.expires_at
    assert await _claimable(world, number, 4)  # the claim was given back
    await keep_history(first, "return_continued_as_new")
    await keep_history(latest, "return_continued_run_expired")
