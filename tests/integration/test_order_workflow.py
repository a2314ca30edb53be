"""The order saga on the time-skipping Temporal server and a real Postgres."""

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from contracts.orders import (
    AuthorizePaymentInput,
    CancelInput,
    ExtendReservationInput,
    HoldInput,
    LineView,
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
from db.stock import on_hand
from domain.orders import FulfillmentPolicy, OrderStatus, PaymentStatus
from domain.stock import CountLine, CycleCount, MoveStock
from tests.conftest import unique
from tests.integration.order_helpers import fulfil, keep_history, order_input, start, wait_for
from tests.integration.stock_world import World
from worker import build_worker
from workflows.backorder_wakeup import BackorderWakeupInput, BackorderWakeupWorkflow
from workflows.order.workflow import PAYMENT_EXPIRED, OrderWorkflow


def line_is_balanced(line: LineView) -> bool:
    """Invariant 5 on a line as the workflow reports it."""
    buckets = (
        line.pending,
        line.reserved,
        line.allocated,
        line.picked,
        line.packed,
        line.backordered,
        line.shipped,
        line.canceled,
    )
    return all(b >= 0 for b in buckets) and sum(buckets) == line.ordered


LEVEL_ZERO = {"reserved": 0, "allocated": 0, "in_transit": 0, "incoming": 0}


@pytest.fixture(scope="module")
async def task_queue(
    time_skipping_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[str]:
    """One worker for the whole module: a workflow still finishing when its test
    ends (a last projection write) must not be left without a worker, or the
    time-skipping server cannot move time on for the next test."""
    queue = unique("orders")
    async with build_worker(time_skipping_env.client, sessions, queue):
        yield queue


async def test_an_order_goes_from_reservation_to_shipment(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("WIDGET", 10)
    await world.receive("FABRIC", 40)
    order = order_input(world, [("WIDGET", 3), ("FABRIC", 10)])
    handle = await start(time_skipping_env.client, task_queue, order)

    view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    assert [(line.line_id, line.allocated) for line in view.lines] == [("L0", 3), ("L1", 10)]
    assert [r.warehouse for r in view.fulfillment_requests] == ["WH1"]

    view = await fulfil(handle, view)
    result = await handle.result()
    assert result.status is OrderStatus.SHIPPED
    assert [(line.line_id, line.shipped) for line in result.lines] == [("L0", 3), ("L1", 10)]
    assert all(line_is_balanced(line) for line in result.lines)
    assert result.shipments[0].carrier == "DHL"
    assert await world.level("WIDGET") == {"on_hand": 7, **LEVEL_ZERO}
    assert await world.level("FABRIC") == {"on_hand": 30, **LEVEL_ZERO}
    await keep_history(handle, "order_happy_path")


@pytest.mark.parametrize("stage", ["allocated", "accepted", "picked", "packed"])
async def test_cancel_at_each_stage_gives_everything_back(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str, stage: str
) -> None:
    await world.receive("WIDGET", 10)
    handle = await start(time_skipping_env.client, task_queue, order_input(world, [("WIDGET", 4)]))
    view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    request = view.fulfillment_requests[0]
    if stage != "allocated":
        await handle.execute_update(OrderWorkflow.accept, RequestInput(request_id=request.id))
    if stage in ("picked", "packed"):
        await handle.execute_update(
            OrderWorkflow.pick,
            PickInput(request_id=request.id, lines=[PickLineInput(line_id="L0", quantity=4)]),
        )
        assert await world.balance("WIDGET", "STAGE") == (4, 4)
    if stage == "packed":
        package = PackageInput(
            package_number="P1", lines=[PackageLineInput(line_id="L0", quantity=4)]
        )
        await handle.execute_update(
            OrderWorkflow.pack, PackInput(request_id=request.id, packages=[package])
        )

    canceled = await handle.execute_update(
        OrderWorkflow.cancel, CancelInput(reason="customer asked")
    )
    assert canceled.status is OrderStatus.CANCELED
    assert canceled.cancel_reason == "customer asked"
    assert [(line.canceled, line.shipped) for line in canceled.lines] == [(4, 0)]
    assert all(line_is_balanced(line) for line in canceled.lines)
    assert (await handle.result()).status is OrderStatus.CANCELED
    assert await world.level("WIDGET") == {"on_hand": 10, **LEVEL_ZERO}
    assert await world.balance("WIDGET", "STAGE") == (0, 0)
    if stage == "picked":
        await keep_history(handle, "order_cancel_after_pick")


async def test_cancel_after_shipment_is_refused(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("WIDGET", 5)
    handle = await start(time_skipping_env.client, task_queue, order_input(world, [("WIDGET", 2)]))
    view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    await fulfil(handle, view)
    await handle.result()
    # The order's workflow has finished: the update cannot even be delivered.
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):
        await handle.execute_update(OrderWorkflow.cancel, CancelInput(reason="too late"))


async def test_unpaid_reservation_expires_after_its_ttl_and_releases_stock(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("WIDGET", 5)
    payment = PaymentInput(status=PaymentStatus.PENDING, ttl_seconds=600)
    handle = await start(
        time_skipping_env.client, task_queue, order_input(world, [("WIDGET", 5)], payment=payment)
    )
    result = await handle.result()  # the test server skips the 10 minutes
    assert result.status is OrderStatus.EXPIRED
    assert result.cancel_reason == PAYMENT_EXPIRED
    assert [line.canceled for line in result.lines] == [5]
    assert await world.level("WIDGET") == {"on_hand": 5, **LEVEL_ZERO}
    await keep_history(handle, "order_payment_expired")


async def test_an_extension_moves_the_deadline_and_payment_lets_the_order_go_on(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("WIDGET", 5)
    payment = PaymentInput(status=PaymentStatus.PENDING, ttl_seconds=600)
    with time_skipping_env.auto_time_skipping_disabled():
        handle = await start(
            time_skipping_env.client,
            task_queue,
            order_input(world, [("WIDGET", 2)], payment=payment),
        )
        view = await wait_for(handle, lambda v: v.status is OrderStatus.PENDING_PAYMENT)
        first = view.reservation_expires_at
        extended = await handle.execute_update(
            OrderWorkflow.extend_reservation, ExtendReservationInput(seconds=3600)
        )
        assert extended.expires_at > (first or "")
        await time_skipping_env.sleep(timedelta(seconds=900))  # past the first deadline
        view = await handle.query(OrderWorkflow.status)
        assert view.status is OrderStatus.PENDING_PAYMENT
        await handle.execute_update(
            OrderWorkflow.authorize_payment,
            AuthorizePaymentInput(amount="19.80", reference="PAY-1"),
        )
        view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    await fulfil(handle, view)
    assert (await handle.result()).status is OrderStatus.SHIPPED


async def test_a_hold_stops_the_order_and_its_release_resumes_it(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("WIDGET", 5)
    payment = PaymentInput(status=PaymentStatus.PENDING, ttl_seconds=3600)
    handle = await start(
        time_skipping_env.client, task_queue, order_input(world, [("WIDGET", 2)], payment=payment)
    )
    await wait_for(handle, lambda v: v.status is OrderStatus.PENDING_PAYMENT)
    hold = await handle.execute_update(
        OrderWorkflow.add_hold, HoldInput(code="fraud", reason="check card")
    )
    await handle.execute_update(
        OrderWorkflow.authorize_payment, AuthorizePaymentInput(amount="19.80", reference="PAY-2")
    )
    view = await wait_for(handle, lambda v: v.status is OrderStatus.ON_HOLD)
    assert view.fulfillment_requests == []  # nothing allocated while held
    await handle.execute_update(OrderWorkflow.release_hold, ReleaseHoldInput(hold_id=hold.id))
    view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    await fulfil(handle, view)
    assert (await handle.result()).status is OrderStatus.SHIPPED


async def test_a_backordered_line_ships_after_stock_arrives(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("GADGET", 2)  # GADGET allows backorders
    handle = await start(time_skipping_env.client, task_queue, order_input(world, [("GADGET", 5)]))
    view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    assert [(line.allocated, line.backordered) for line in view.lines] == [(2, 3)]
    view = await fulfil(handle, view)
    view = await wait_for(handle, lambda v: v.status is OrderStatus.PARTIALLY_SHIPPED)
    await world.receive("GADGET", 10)
    await handle.signal(OrderWorkflow.stock_arrived, StockArrivedInput(sku="GADGET"))
    view = await wait_for(
        handle, lambda v: any(r.status == "requested" for r in v.fulfillment_requests)
    )
    await fulfil(handle, view)
    result = await handle.result()
    assert result.status is OrderStatus.SHIPPED
    assert [line.shipped for line in result.lines] == [5]
    assert len(result.shipments) == 2
    await keep_history(handle, "order_backordered_then_shipped")


async def test_a_denied_backorder_cancels_the_short_part_or_rejects_the_order(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("WIDGET", 2)  # WIDGET denies backorders
    partial = await start(time_skipping_env.client, task_queue, order_input(world, [("WIDGET", 5)]))
    view = await wait_for(partial, lambda v: v.status is OrderStatus.ALLOCATED)
    assert [(line.allocated, line.canceled) for line in view.lines] == [(2, 3)]
    await partial.execute_update(OrderWorkflow.cancel, CancelInput(reason="test over"))

    complete = await start(
        time_skipping_env.client,
        task_queue,
        order_input(world, [("WIDGET", 5)], policy=FulfillmentPolicy.SHIP_COMPLETE),
    )
    result = await complete.result()
    assert result.status is OrderStatus.REJECTED
    assert result.cancel_reason == (
        "not enough stock (ship_complete) and the item may not be backordered: L0 (WIDGET) short 3"
    )
    assert [line.canceled for line in result.lines] == [5]
    assert await world.level("WIDGET") == {"on_hand": 2, **LEVEL_ZERO}


async def test_an_order_nothing_of_which_can_be_had_or_awaited_is_rejected_with_why(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    order = order_input(world, [("WIDGET", 4)])  # none in stock; WIDGET denies backorders
    result = await (await start(time_skipping_env.client, task_queue, order)).result()
    assert result.status is OrderStatus.REJECTED
    assert result.cancel_reason == (
        "not enough stock (ship_partial) and the item may not be backordered: L0 (WIDGET) short 4"
    )


async def test_a_cancel_without_a_reason_is_refused_and_changes_nothing(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("WIDGET", 3)
    handle = await start(time_skipping_env.client, task_queue, order_input(world, [("WIDGET", 3)]))
    await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(OrderWorkflow.cancel, CancelInput(reason="  "))
    assert (await handle.query(OrderWorkflow.status)).status is OrderStatus.ALLOCATED
    await handle.execute_update(OrderWorkflow.cancel, CancelInput(reason="test over"))


async def test_a_short_pick_takes_the_missing_stock_off_the_books_and_reserves_again(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("WIDGET", 3, location="A1")
    await world.receive("WIDGET", 5, location="A2")
    handle = await start(time_skipping_env.client, task_queue, order_input(world, [("WIDGET", 6)]))
    view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    request = view.fulfillment_requests[0]
    await handle.execute_update(OrderWorkflow.accept, RequestInput(request_id=request.id))
    # A1 is found empty: 3 of the 6 were not there
    await handle.execute_update(
        OrderWorkflow.pick,
        PickInput(
            request_id=request.id, lines=[PickLineInput(line_id="L0", quantity=3, location="A2")]
        ),
    )
    view = await wait_for(
        handle, lambda v: any(r.status == "requested" for r in v.fulfillment_requests)
    )
    assert await world.balance("WIDGET", "A1") == (0, 0)  # the loss is booked
    # The 3 picked ship; the 3 missing were reserved again: 2 left at A2, 1 canceled
    # (WIDGET denies backorders).
    [line] = view.lines
    assert (line.picked, line.allocated, line.canceled) == (3, 2, 1)
    package = PackageInput(package_number="P1", lines=[PackageLineInput(line_id="L0", quantity=3)])
    await handle.execute_update(
        OrderWorkflow.pack, PackInput(request_id=request.id, packages=[package])
    )
    await handle.execute_update(OrderWorkflow.ship, ShipInput(request_id=request.id, carrier="UPS"))
    await fulfil(handle, await handle.query(OrderWorkflow.status))
    result = await handle.result()
    assert result.status is OrderStatus.SHIPPED
    assert [(line.shipped, line.canceled) for line in result.lines] == [(5, 1)]
    assert await world.level("WIDGET") == {"on_hand": 0, **LEVEL_ZERO}
    await keep_history(handle, "order_short_pick")


async def test_ship_complete_holds_what_it_has_until_every_line_is_reserved(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("GADGET", 2)
    await world.receive("WIDGET", 4)
    order = order_input(
        world, [("WIDGET", 4), ("GADGET", 5)], policy=FulfillmentPolicy.SHIP_COMPLETE
    )
    handle = await start(time_skipping_env.client, task_queue, order)
    view = await wait_for(handle, lambda v: v.status is OrderStatus.BACKORDERED)
    assert [(x.reserved, x.backordered) for x in view.lines] == [(4, 0), (2, 3)]
    assert view.fulfillment_requests == []  # nothing ships yet
    await world.receive("GADGET", 3)
    await handle.signal(OrderWorkflow.stock_arrived, StockArrivedInput(sku="GADGET"))
    view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    assert [x.allocated for x in view.lines] == [4, 5]
    assert len(view.fulfillment_requests) == 1  # one shipment for the whole order
    await fulfil(handle, view)
    result = await handle.result()
    assert [x.shipped for x in result.lines] == [4, 5]
    assert all(line_is_balanced(line) for line in result.lines)


@pytest.mark.parametrize("wait", ["pending_payment", "backordered", "on_hold"])
async def test_cancel_while_waiting_releases_what_was_reserved(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str, wait: str
) -> None:
    await world.receive("GADGET", 2)
    payment = (
        PaymentInput(status=PaymentStatus.PENDING, ttl_seconds=3600)
        if wait == "pending_payment"
        else None
    )
    quantity = 5 if wait == "backordered" else 2
    policy = FulfillmentPolicy.SHIP_COMPLETE
    handle = await start(
        time_skipping_env.client,
        task_queue,
        order_input(world, [("GADGET", quantity)], payment=payment, policy=policy),
    )
    if wait == "on_hold":
        await handle.execute_update(
            OrderWorkflow.add_hold, HoldInput(code="manual", reason="call customer")
        )
    await wait_for(handle, lambda v: v.status.value == wait)
    canceled = await handle.execute_update(OrderWorkflow.cancel, CancelInput(reason="changed mind"))
    assert canceled.status is OrderStatus.CANCELED
    assert all(line_is_balanced(line) for line in canceled.lines)
    assert [line.canceled for line in canceled.lines] == [quantity]
    assert await world.level("GADGET") == {"on_hand": 2, **LEVEL_ZERO}


async def test_backorder_policy_ships_complete_lines_and_holds_a_short_line_whole(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("WIDGET", 3)
    await world.receive("GADGET", 2)
    order = order_input(world, [("WIDGET", 3), ("GADGET", 5)], policy=FulfillmentPolicy.BACKORDER)
    handle = await start(time_skipping_env.client, task_queue, order)
    view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    assert [(x.allocated, x.reserved, x.backordered) for x in view.lines] == [(3, 0, 0), (0, 2, 3)]
    view = await fulfil(handle, view)  # the complete WIDGET line ships
    await wait_for(handle, lambda v: v.status is OrderStatus.PARTIALLY_SHIPPED)
    await world.receive("GADGET", 3)
    await handle.signal(OrderWorkflow.stock_arrived, StockArrivedInput(sku="GADGET"))
    view = await wait_for(
        handle, lambda v: any(r.status == "requested" for r in v.fulfillment_requests)
    )
    assert [x.allocated for x in view.lines] == [0, 5]  # the GADGET line goes whole
    await fulfil(handle, view)
    result = await handle.result()
    assert [x.shipped for x in result.lines] == [3, 5]
    assert await world.level("GADGET") == {"on_hand": 0, **LEVEL_ZERO}


async def test_stock_no_pickable_place_holds_is_given_back_and_awaited(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("GADGET", 4, location="DOCK")  # received, not yet put away
    handle = await start(time_skipping_env.client, task_queue, order_input(world, [("GADGET", 3)]))
    view = await wait_for(handle, lambda v: v.status is OrderStatus.BACKORDERED)
    assert [(x.reserved, x.backordered) for x in view.lines] == [(0, 3)]
    assert (await world.level("GADGET"))["reserved"] == 0  # nothing held for nothing
    move = MoveStock("WH1", "DOCK", "A1", "GADGET", 4)
    await on_hand.move(world.sessions, world.caller(), move)
    await handle.signal(OrderWorkflow.stock_arrived, StockArrivedInput(sku="GADGET"))
    view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    await fulfil(handle, view)
    assert [x.shipped for x in (await handle.result()).lines] == [3]


async def test_a_request_found_empty_is_canceled_and_the_order_goes_on(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("GADGET", 2, location="A1")
    handle = await start(time_skipping_env.client, task_queue, order_input(world, [("GADGET", 2)]))
    view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    request = view.fulfillment_requests[0]
    await handle.execute_update(OrderWorkflow.accept, RequestInput(request_id=request.id))
    view = await handle.execute_update(
        OrderWorkflow.pick,
        PickInput(request_id=request.id, lines=[PickLineInput(line_id="L0", quantity=0)]),
    )
    assert view.fulfillment_requests[0].status == "canceled"
    view = await wait_for(handle, lambda v: v.status is OrderStatus.BACKORDERED)
    assert [x.backordered for x in view.lines] == [2]  # GADGET allows backorders
    assert await world.level("GADGET") == {"on_hand": 0, **LEVEL_ZERO}  # written off
    await handle.execute_update(OrderWorkflow.cancel, CancelInput(reason="gave up"))


async def test_cancel_after_a_partial_shipment_cancels_the_rest(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("GADGET", 2)
    handle = await start(time_skipping_env.client, task_queue, order_input(world, [("GADGET", 5)]))
    view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    await fulfil(handle, view)
    await wait_for(handle, lambda v: v.status is OrderStatus.PARTIALLY_SHIPPED)
    canceled = await handle.execute_update(
        OrderWorkflow.cancel, CancelInput(reason="no longer needed")
    )
    assert canceled.status is OrderStatus.CANCELED
    assert [(x.shipped, x.canceled, x.backordered) for x in canceled.lines] == [(2, 3, 0)]
    assert await world.level("GADGET") == {"on_hand": 0, **LEVEL_ZERO}


async def test_the_wakeup_sweep_wakes_an_order_whose_stock_came_back_another_way(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    handle = await start(time_skipping_env.client, task_queue, order_input(world, [("GADGET", 2)]))
    await wait_for(handle, lambda v: v.status is OrderStatus.BACKORDERED)
    # Stock appears through a count, which signals nobody.
    count = CycleCount("WH1", "A1", [CountLine("GADGET", 5)], "found a box")
    await on_hand.cycle_count(world.sessions, world.caller(), count)
    sweeper = await time_skipping_env.client.start_workflow(
        BackorderWakeupWorkflow.run,
        BackorderWakeupInput(),
        id=unique("wakeup"),
        task_queue=task_queue,
    )
    sweep = await sweeper.result()
    assert handle.id in sweep.woken
    await keep_history(sweeper, "backorder_wakeup_sweep")
    view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    await fulfil(handle, view)
    assert [x.shipped for x in (await handle.result()).lines] == [2]
    await keep_history(handle, "order_woken_by_sweep")


async def test_picking_named_serials_takes_those_and_writes_off_the_rest(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("PHONE", 3, serials=["PX-1", "PX-2", "PX-3"])
    handle = await start(time_skipping_env.client, task_queue, order_input(world, [("PHONE", 2)]))
    view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    request = view.fulfillment_requests[0]
    allocated = sorted(a.serial or "" for a in request.allocations)
    assert allocated == ["PX-1", "PX-2"]
    await handle.execute_update(OrderWorkflow.accept, RequestInput(request_id=request.id))
    view = await handle.execute_update(
        OrderWorkflow.pick,
        PickInput(
            request_id=request.id, lines=[PickLineInput(line_id="L0", quantity=1, serials=["PX-2"])]
        ),
    )
    picked = [a.serial for a in view.fulfillment_requests[0].allocations if a.status == "picked"]
    assert picked == ["PX-2"]
    assert await world.balance("PHONE", "STAGE") == (1, 1)
    # PX-1 was not found: written off; PX-3 is reserved again in its place
    view = await wait_for(
        handle, lambda v: any(r.status == "requested" for r in v.fulfillment_requests)
    )
    again = next(r for r in view.fulfillment_requests if r.status == "requested")
    assert [a.serial for a in again.allocations] == ["PX-3"]
    await handle.execute_update(OrderWorkflow.cancel, CancelInput(reason="test over"))
    assert await world.level("PHONE") == {"on_hand": 2, **LEVEL_ZERO}


async def test_an_unpaid_ship_complete_order_expires_while_it_waits_for_stock(
    world: World, time_skipping_env: WorkflowEnvironment, task_queue: str
) -> None:
    await world.receive("GADGET", 2)
    payment = PaymentInput(status=PaymentStatus.PENDING, ttl_seconds=600)
    order = order_input(
        world, [("GADGET", 5)], policy=FulfillmentPolicy.SHIP_COMPLETE, payment=payment
    )
    handle = await start(time_skipping_env.client, task_queue, order)
    await wait_for(handle, lambda v: v.status is OrderStatus.BACKORDERED)
    await time_skipping_env.sleep(timedelta(seconds=700))  # no stock arrives in time
    result = await handle.result()
    assert result.status is OrderStatus.EXPIRED
    assert result.cancel_reason == PAYMENT_EXPIRED
    assert await world.level("GADGET") == {"on_hand": 2, **LEVEL_ZERO}
