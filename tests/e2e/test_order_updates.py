"""Order workflow updates on the Temporal dev server (real server semantics)."""

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from contracts.orders import (
    CancelInput,
    ExtendReservationInput,
    PickInput,
    PickLineInput,
    ReleaseHoldInput,
    RequestInput,
    ShipInput,
)
from domain.orders import OrderStatus
from settings import Settings
from tests.integration.order_helpers import order_input, quiet_history, start, wait_for
from tests.integration.stock_world import World
from workflows.order.workflow import OrderWorkflow


async def test_refused_updates_leave_no_trace(
    world: World, dev_env: WorkflowEnvironment, dev_worker: Worker, settings: Settings
) -> None:
    """On the dev server (the real server's semantics): a validator's refusal
    writes nothing to the history, and the stock does not move."""
    task_queue = settings.temporal_task_queue
    await world.receive("WIDGET", 5)
    handle = await start(dev_env.client, task_queue, order_input(world, [("WIDGET", 2)]))
    view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    request = view.fulfillment_requests[0]
    events_before = await quiet_history(handle)
    bad: list[tuple[str, object]] = [
        (
            "pick",
            PickInput(request_id=request.id, lines=[PickLineInput(line_id="L0", quantity=2)]),
        ),  # not accepted
        ("accept", RequestInput(request_id="NOPE")),
        ("ship", ShipInput(request_id=request.id, carrier="DHL")),
        ("release_hold", ReleaseHoldInput(hold_id="H9")),
        ("extend_reservation", ExtendReservationInput(seconds=60)),  # payment authorized
    ]
    for update, arg in bad:
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(update, arg)
    assert len((await handle.fetch_history()).events) == events_before
    await handle.execute_update(OrderWorkflow.accept, RequestInput(request_id=request.id))
    events_before = await quiet_history(handle)
    for lines in (
        [PickLineInput(line_id="L0", quantity=3)],
        [PickLineInput(line_id="L9", quantity=1)],
        [PickLineInput(line_id="L0", quantity=1, lot="X")],
        [PickLineInput(line_id="L0", quantity=-1)],
    ):
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(
                OrderWorkflow.pick, PickInput(request_id=request.id, lines=lines)
            )
    after = (await handle.fetch_history()).events
    assert len(after) == events_before, [e.event_type for e in after[events_before:]] + [
        str(e.workflow_task_failed_event_attributes.failure.message)
        for e in after[events_before:]
        if e.HasField("workflow_task_failed_event_attributes")
    ]  # no trace at all
    assert await world.level("WIDGET") == {
        "on_hand": 5,
        "reserved": 0,
        "allocated": 2,
        "in_transit": 0,
        "incoming": 0,
    }
    await handle.execute_update(OrderWorkflow.cancel, CancelInput(reason="done"))
