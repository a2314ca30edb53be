"""The order workflow's lean shape (patches lean-order-shape, lean-order-shape-2,
order-patches-in-one, order-reserve-and-allocate and order-gives-back-by-reference):
an order that ships at once runs its stock steps as three activities, the
reservation allocating too, the pick and the shipment writing the projection
themselves, and four local activities; the projection it leaves is the order as the
workflow ends it, version and all."""

from pydantic import TypeAdapter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from contracts.orders import OrderView
from domain.orders import OrderStatus
from tests.conftest import unique
from tests.integration.order_helpers import fulfil, order_input, start, wait_for
from tests.integration.stock_world import World
from worker import build_worker
from workflows.order.workflow import GIVES_BACK_BY_REFERENCE


async def test_an_order_that_ships_at_once_runs_three_activities_and_leaves_its_last_view(
    world: World,
    time_skipping_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await world.receive("WIDGET", 5)
    await world.receive("FABRIC", 5)
    queue = unique("shape")
    async with build_worker(time_skipping_env.client, sessions, queue):
        order = order_input(world, [("WIDGET", 2), ("FABRIC", 3)])
        handle = await start(time_skipping_env.client, queue, order)
        view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
        await fulfil(handle, view)
        result = await handle.result()

    events = (await handle.fetch_history()).events
    activities = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    local = [
        e
        for e in events
        if e.HasField("marker_recorded_event_attributes")
        and e.marker_recorded_event_attributes.marker_name == "core_local_activity"
    ]
    # the reservation allocated too: every line was reserved in full, payment
    # authorized, no hold
    assert activities == ["reserve_lines", "pick_and_project", "ship_and_project"]
    # record; the allocation (its requests, then allocated, in one write); accepted;
    # packed. The shipment wrote the run's last view: nothing is written at its close.
    assert len(local) == 4
    # A new run asks order-gives-back-by-reference alone (it implies every patch
    # before it): one patch marker, and core's one upsert of TemporalChangeVersion
    # with it (each patch asked adds both).
    patches = [
        e.marker_recorded_event_attributes.details["patch-data"]
        for e in events
        if e.HasField("marker_recorded_event_attributes")
        and e.marker_recorded_event_attributes.marker_name == "core_patch"
    ]
    versions = [
        e
        for e in events
        if e.HasField("upsert_workflow_search_attributes_event_attributes")
        and "TemporalChangeVersion"
        in e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
    ]
    assert (len(patches), len(versions)) == (1, 1)
    assert GIVES_BACK_BY_REFERENCE.encode() in patches[0].payloads[0].data
    async with sessions() as session:
        stored = await session.scalar(
            text("SELECT view FROM orders WHERE tenant_id = :t AND order_number = :n"),
            {"t": world.tenant_id, "n": order.order_number},
        )
    projected = TypeAdapter(OrderView).validate_python(stored)
    assert result.status is OrderStatus.SHIPPED
    # the picked allocations carry the ids the pick gave them
    assert projected == result
