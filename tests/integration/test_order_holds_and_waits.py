"""Holds that hold at every stage, an order that waits for a staging location, a
step that comes early, and a waiting order that continues as new: on the
time-skipping Temporal server and a real Postgres."""

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from contracts.orders import (
    CancelInput,
    HoldInput,
    PackInput,
    PaymentInput,
    PickInput,
    PickLineInput,
    ReleaseHoldInput,
    RequestInput,
    ShipInput,
    StockArrivedInput,
)
from contracts.shipping import PackageInput, PackageLineInput
from db.catalogue import create_location, create_warehouse
from domain.catalogue import LocationSpec, LocationType, WarehouseSpec
from domain.orders import HoldBlocks, OrderStatus, PaymentStatus
from tests.conftest import unique
from tests.integration.order_helpers import (
    fulfil,
    keep_history,
    order_input,
    quiet_history,
    start,
    wait_for,
)
from tests.integration.stock_world import World
from worker import build_worker
from workflows.order.plumbing import MAX_HISTORY
from workflows.order.workflow import RETRY_STAGING, OrderWorkflow
from workflows.refusals import NOT_YET

LEVEL_ZERO = {"reserved": 0, "allocated": 0, "in_transit": 0, "incoming": 0}


@pytest.fixture(scope="module")
async def task_queue(
    time_skipping_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[str]:
    queue = unique("orders")
    async with build_worker(time_skipping_env.client, sessions, queue):
        yield queue


async def refusal(step: Any) -> ApplicationError:
    """The ApplicationError an update was refused with."""
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await step
    assert isinstance(refused.value.cause, ApplicationError)
    return refused.value.cause


async def test_a_hold_after_acceptance_stops_pick_pack_and_ship_until_released(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("WIDGET", 2)
    handle = await start(time_skipping_env.client, task_queue, order_input(world, [("WIDGET", 2)]))
    view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    request = view.fulfillment_requests[0]
    await handle.execute_update(OrderWorkflow.accept, RequestInput(request_id=request.id))
    fraud = await handle.execute_update(
        OrderWorkflow.add_hold, HoldInput(code="fraud", reason="card flagged")
    )
    pick = PickInput(request_id=request.id, lines=[PickLineInput(line_id="L0", quantity=2)])
    refused = await refusal(handle.execute_update(OrderWorkflow.pick, pick))
    assert "fraud" in refused.message and fraud.id in refused.message
    assert (await handle.query(OrderWorkflow.status)).status is OrderStatus.ON_HOLD
    assert await world.level("WIDGET") == {"on_hand": 2, **LEVEL_ZERO, "allocated": 2}

    await handle.execute_update(OrderWorkflow.release_hold, ReleaseHoldInput(hold_id=fraud.id))
    view = await handle.query(OrderWorkflow.status)
    assert view.status is OrderStatus.IN_FULFILLMENT  # where it was: accepted
    await handle.execute_update(OrderWorkflow.pick, pick)
    manual = await handle.execute_update(
        OrderWorkflow.add_hold, HoldInput(code="manual", reason="late check")
    )
    package = PackageInput(package_number="P1", lines=[PackageLineInput(line_id="L0", quantity=2)])
    pack = PackInput(request_id=request.id, packages=[package])
    assert manual.id in (await refusal(handle.execute_update(OrderWorkflow.pack, pack))).message
    await handle.execute_update(OrderWorkflow.release_hold, ReleaseHoldInput(hold_id=manual.id))
    await handle.execute_update(OrderWorkflow.pack, pack)
    ship = ShipInput(request_id=request.id, carrier="DHL")
    await handle.execute_update(OrderWorkflow.add_hold, HoldInput(code="manual", reason="again"))
    assert "manual" in (await refusal(handle.execute_update(OrderWorkflow.ship, ship))).message
    await handle.execute_update(OrderWorkflow.release_hold, ReleaseHoldInput(hold_id="H3"))
    await handle.execute_update(OrderWorkflow.ship, ship)
    result = await handle.result()
    assert result.status is OrderStatus.SHIPPED and len(result.shipments) == 1
    assert await world.level("WIDGET") == {"on_hand": 0, **LEVEL_ZERO}


async def test_a_hold_that_blocks_all_also_refuses_the_shops_cancel(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("WIDGET", 2)
    handle = await start(time_skipping_env.client, task_queue, order_input(world, [("WIDGET", 2)]))
    await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    legal = await handle.execute_update(
        OrderWorkflow.add_hold,
        HoldInput(code="legal", reason="dispute under review", blocks=HoldBlocks.ALL),
    )
    assert legal.blocks is HoldBlocks.ALL
    refused = await refusal(handle.execute_update(OrderWorkflow.cancel, CancelInput(reason="x")))
    assert "legal" in refused.message
    await handle.execute_update(OrderWorkflow.release_hold, ReleaseHoldInput(hold_id=legal.id))
    await handle.execute_update(
        OrderWorkflow.add_hold, HoldInput(code="fraud", reason="check card")
    )  # blocks fulfillment only: a cancel goes through
    result = await handle.execute_update(OrderWorkflow.cancel, CancelInput(reason="fraud"))
    assert result.status is OrderStatus.CANCELED
    assert await world.level("WIDGET") == {"on_hand": 2, **LEVEL_ZERO}


async def test_accepting_a_request_the_order_has_not_made_yet_is_a_step_that_comes_early(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("WIDGET", 2)
    payment = PaymentInput(status=PaymentStatus.PENDING, ttl_seconds=3600)
    order = order_input(world, [("WIDGET", 2)], payment=payment)
    handle = await start(time_skipping_env.client, task_queue, order)
    await wait_for(handle, lambda v: v.status is OrderStatus.PENDING_PAYMENT)
    early = RequestInput(request_id=f"{order.order_number}-WH1-1")
    assert (await refusal(handle.execute_update(OrderWorkflow.accept, early))).type == NOT_YET
    unknown = RequestInput(request_id="SO-other-WH1-1")
    assert (await refusal(handle.execute_update(OrderWorkflow.accept, unknown))).type != NOT_YET
    await handle.execute_update(OrderWorkflow.cancel, CancelInput(reason="done"))


async def test_a_warehouse_without_staging_makes_the_order_wait_with_its_stock_until_it_has_one(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    async with world.sessions() as session, session.begin():
        # its only staging location is inactive (a new warehouse gets one otherwise)
        inactive = LocationSpec("WH3", "STAGE", LocationType.STAGING, active=False)
        bin_ = LocationSpec("WH3", "S1", LocationType.BIN)
        spec = WarehouseSpec("WH3", "no staging", 0)
        await create_warehouse(session, world.tenant_id, spec, [bin_, inactive])
    await world.receive("WIDGET", 5, warehouse="WH3", location="S1")
    handle = await start(time_skipping_env.client, task_queue, order_input(world, [("WIDGET", 2)]))
    view = await wait_for(handle, lambda v: v.lines[0].reserved == 2)
    await time_skipping_env.sleep(RETRY_STAGING * 2)  # asks again, still cannot stage
    view = await handle.query(OrderWorkflow.status)
    assert (view.status, view.fulfillment_requests) == (OrderStatus.RECEIVED, [])
    assert await world.level("WIDGET", "WH3") == {"on_hand": 5, **LEVEL_ZERO, "reserved": 2}
    async with world.sessions() as session, session.begin():
        staging = LocationSpec("WH3", "PACK", LocationType.STAGING)
        await create_location(session, world.tenant_id, staging)
    await time_skipping_env.sleep(RETRY_STAGING)
    view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    await fulfil(handle, view)
    assert (await handle.result()).status is OrderStatus.SHIPPED
    await keep_history(handle, "order_waits_for_staging")


async def _runs(client: Client, workflow_id: str) -> list[int]:
    """The history length of every run of `workflow_id`, newest first (following
    each run's started event back to the run it continued)."""
    lengths: list[int] = []
    run_id: str | None = None
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        lengths.append(len(history.events))
        started = history.events[0]
        assert started.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
        run_id = started.workflow_execution_started_event_attributes.continued_execution_run_id
        if not run_id:
            return lengths


WAKE_UPS = 10_000
BATCH = 250


async def test_an_order_woken_ten_thousand_times_continues_as_new_and_keeps_its_state(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    client = time_skipping_env.client
    handle = await start(client, task_queue, order_input(world, [("GADGET", 2)]))
    before = await wait_for(handle, lambda v: v.status is OrderStatus.BACKORDERED)
    woken, no_hold = StockArrivedInput(sku="GADGET"), ReleaseHoldInput(hold_id="none")
    for _ in range(WAKE_UPS // BATCH):
        await asyncio.gather(
            *(handle.signal(OrderWorkflow.stock_arrived, woken) for _ in range(BATCH))
        )
        # A refused update (no trace in the history) is answered once the worker
        # took up what came before it: each batch is handled before the next.
        await refusal(handle.execute_update(OrderWorkflow.release_hold, no_hold))
    await quiet_history(handle)
    runs = await _runs(client, handle.id)
    assert len(runs) >= 3, runs  # several hops
    assert max(runs) < 2 * MAX_HISTORY, runs
    after = await wait_for(handle, lambda v: v.status is OrderStatus.BACKORDERED)
    assert dataclasses.replace(after, version=0) == dataclasses.replace(before, version=0)

    await world.receive("GADGET", 2)
    await handle.signal(OrderWorkflow.stock_arrived, woken)
    view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    await fulfil(handle, view)
    result = await handle.result()
    assert result.status is OrderStatus.SHIPPED and len(result.shipments) == 1
    assert await world.level("GADGET") == {"on_hand": 0, **LEVEL_ZERO}


async def test_a_step_repeated_after_the_run_continued_as_new_is_answered_not_done_again(
    world: World,
    time_skipping_env: WorkflowEnvironment,
    task_queue: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Temporal answers a repeated update id (the API's Idempotency-Key) only within
    # the run that took it; the order carries the ids of its steps to the next run.
    client = time_skipping_env.client
    await world.receive("WIDGET", 2)
    handle = await start(client, task_queue, order_input(world, [("WIDGET", 2)]))
    view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    accept = RequestInput(request_id=view.fulfillment_requests[0].id)
    await handle.execute_update(OrderWorkflow.accept, accept, id="accept/k1")
    fraud = HoldInput(code="fraud", reason="check")
    first = await handle.execute_update(OrderWorkflow.add_hold, fraud, id="add_hold/k2")
    first_run = (await handle.describe()).run_id
    # A bound this run has reached and a fresh one has not: it continues at its next
    # wake-up, and only once.
    events = len((await handle.fetch_history()).events)
    monkeypatch.setattr("workflows.order.plumbing.MAX_HISTORY", events)
    await handle.signal(OrderWorkflow.stock_arrived, StockArrivedInput(sku="OTHER"))
    for _ in range(100):  # the worker takes up the signal, then the new run starts
        if (await handle.describe()).run_id != first_run:
            break
        await asyncio.sleep(0.1)
    assert (await handle.describe()).run_id != first_run
    await wait_for(handle, lambda v: v.status is OrderStatus.ON_HOLD)

    again = await handle.execute_update(OrderWorkflow.add_hold, fraud, id="add_hold/k2")
    assert again == first  # the same hold, not a second one
    view = await handle.execute_update(OrderWorkflow.accept, accept, id="accept/k1")
    assert [h.id for h in view.holds] == ["H1"]
    assert view.fulfillment_requests[0].status == "accepted"
    await handle.execute_update(OrderWorkflow.release_hold, ReleaseHoldInput(hold_id="H1"))
    await fulfil(handle, await handle.query(OrderWorkflow.status))
    result = await handle.result()
    assert result.status is OrderStatus.SHIPPED and len(result.shipments) == 1
