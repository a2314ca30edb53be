"""A warehouse step (pick, ship) of several allocations commits all of them or none:
refused for good at the second allocation, the first is not left picked (or
shipped) behind the run's back. The update is refused, the order is as it was,
and the same step asked again once the cause is gone goes through. On the dev
server with the project's worker and a real Postgres."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from contracts.orders import PackInput, PickInput, PickLineInput, RequestInput, ShipInput
from contracts.shipping import PackageInput, PackageLineInput
from domain.orders import OrderStatus
from settings import Settings
from tests.integration.order_helpers import order_input, pack_and_ship, start, wait_for
from tests.integration.stock_world import World
from tests.integration.test_unprocessable_steps import LEVEL_ZERO, item_id, refusing
from workflows.order.workflow import OrderWorkflow


@pytest.mark.parametrize("step", ["pick", "ship"])
async def test_a_warehouse_step_refused_at_its_second_allocation_keeps_none_of_it(
    world: World,
    dev_env: WorkflowEnvironment,
    dev_worker: Worker,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    step: str,
) -> None:
    await world.receive("WIDGET", 5)
    await world.receive("FABRIC", 5)
    fabric = await item_id(sessions, world, "FABRIC")
    # A step runs its allocations by item: WIDGET's first, then FABRIC's (refused).
    assert await item_id(sessions, world, "WIDGET") < fabric
    order = order_input(world, [("WIDGET", 2), ("FABRIC", 3)])
    handle = await start(dev_env.client, settings.temporal_task_queue, order)
    view = await wait_for(handle, lambda v: v.status is OrderStatus.ALLOCATED)
    (request,) = view.fulfillment_requests
    await handle.execute_update(OrderWorkflow.accept, RequestInput(request_id=request.id))
    pick = PickInput(
        request_id=request.id,
        lines=[PickLineInput(line_id=x.line_id, quantity=x.quantity) for x in request.lines],
    )
    ship = ShipInput(request_id=request.id, carrier="DHL", tracking_numbers=["TRK-1"])
    if step == "ship":
        await handle.execute_update(OrderWorkflow.pick, pick)
        package = PackageInput(
            package_number="P1",
            lines=[PackageLineInput(line_id=x.line_id, quantity=x.quantity) for x in request.lines],
        )
        await handle.execute_update(
            OrderWorkflow.pack, PackInput(request_id=request.id, packages=[package])
        )
    # FABRIC's ledger row for this step is refused for good, after WIDGET's.
    when = f"NEW.type = '{step}' AND NEW.item_id = {fabric}"
    async with refusing(sessions, world, "movements", "22003", when):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            if step == "pick":
                await handle.execute_update(OrderWorkflow.pick, pick)
            else:
                await handle.execute_update(OrderWorkflow.ship, ship)
        assert "injected refusal (SQLSTATE 22003)" in str(refused.value.cause.__cause__)
        # Nothing of the step is kept: WIDGET is where it was before the step.
        staged = (0, 0) if step == "pick" else (2, 2)
        assert await world.balance("WIDGET", "STAGE") == staged
        assert await world.level("WIDGET") == {**LEVEL_ZERO, "on_hand": 5, "allocated": 2}
        assert await world.violations() == []

    # Asked again once the cause is gone, the step goes through, whole.
    if step == "pick":
        view = await handle.execute_update(OrderWorkflow.pick, pick)
        shipped = await pack_and_ship(handle, view, request.id)
    else:
        shipped = await handle.execute_update(OrderWorkflow.ship, ship)
    assert shipped.status is OrderStatus.SHIPPED
    for sku, left in (("WIDGET", 3), ("FABRIC", 2)):
        assert await world.level(sku) == {"on_hand": left, **LEVEL_ZERO}
        assert await world.balance(sku, "STAGE") == (0, 0)
    assert await world.violations() == []
