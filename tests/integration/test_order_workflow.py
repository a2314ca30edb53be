"""The order saga on the time-skipping Temporal server and a real Postgres."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from domain.orders import OrderStatus
from tests.conftest import unique
from tests.integration.order_helpers import fulfil, order_input, start, wait_for
from tests.integration.stock_world import World
from worker import build_worker
from workflows.order.messages import LineView


def line_is_balanced(line: LineView) -> bool:
    """Invariant 5 on a line as the workflow reports it."""
    buckets = (line.pending, line.reserved, line.allocated, line.picked, line.packed,
               line.backordered, line.shipped, line.canceled)  # fmt: skip
    return all(b >= 0 for b in buckets) and sum(buckets) == line.ordered


LEVEL_ZERO = {"reserved": 0, "allocated": 0, "in_transit": 0, "incoming": 0}


@pytest.fixture
async def task_queue(
    time_skipping_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[str]:
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
