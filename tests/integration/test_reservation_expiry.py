"""Reservations with an expires_at are released (as `expired`) by the expiry
workflow, on a real Postgres and the time-skipping Temporal server."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from temporalio.testing import WorkflowEnvironment

from db.stock.promising import reserve
from domain.stock import ReserveLine, ReserveStock
from tests.conftest import unique
from tests.integration.stock_world import World
from worker import build_worker
from workflows.reservation_expiry import ReservationExpiryInput, ReservationExpiryWorkflow


async def _reserve(world: World, quantity: int, expires_at: datetime | None) -> int:
    command = ReserveStock([ReserveLine("WH1", "WIDGET", quantity)], "pos", None, expires_at)
    result = await reserve(world.sessions, world.caller(), command)
    return result.reservations[0].id


async def test_due_reservations_expire_and_free_their_stock(
    world: World, time_skipping_env: WorkflowEnvironment
) -> None:
    await world.receive("WIDGET", 10)
    now = datetime.now(UTC)
    due = await _reserve(world, 3, now - timedelta(seconds=1))
    later = await _reserve(world, 2, now + timedelta(hours=1))
    forever = await _reserve(world, 1, None)
    assert (await world.level("WIDGET"))["reserved"] == 6

    task_queue = unique("tq")
    async with build_worker(time_skipping_env.client, world.sessions, task_queue):
        result = await time_skipping_env.client.execute_workflow(
            ReservationExpiryWorkflow.run,
            ReservationExpiryInput(batch=2),  # small batches: the loop must go on
            id=unique("expiry"),
            task_queue=task_queue,
        )
    assert due in result.expired
    assert later not in result.expired and forever not in result.expired
    assert (await world.level("WIDGET"))["reserved"] == 3
    async with world.sessions() as session:
        rows = await session.execute(
            text("SELECT id, status FROM reservations WHERE id = ANY(:ids)"),
            {"ids": [due, later, forever]},
        )
        statuses: dict[int, str] = {row.id: row.status for row in rows}
    assert statuses == {due: "expired", later: "active", forever: "active"}
