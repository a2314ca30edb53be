"""Lots past their expiry date leave `available` everywhere: reads, reservations and
allocation from the expiry date on, and the stored status and the levels' `held`
once the lot-expiry workflow (a schedule) marks them; real Postgres and the
time-skipping Temporal server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from temporalio.testing import WorkflowEnvironment

from db.orders import reservable
from db.stock import queries
from db.stock.promising import release
from domain.errors import InvalidInput
from domain.stock import InsufficientStock, ReleaseReservation
from tests.conftest import unique
from tests.integration.order_helpers import keep_history
from tests.integration.stock_world import World
from worker import build_worker
from workflows.lot_expiry import LotExpiryInput, LotExpiryResult, LotExpiryWorkflow


def _today() -> date:
    """Today, read when a test runs (not when the module is imported: a run that
    crosses midnight would see yesterday's date as today)."""
    return datetime.now(UTC).date()


async def _sweep(world: World, env: WorkflowEnvironment, keep: str | None = None) -> set[int]:
    """One scheduled run of the lot-expiry workflow; the lot ids it marked."""
    task_queue = unique("lots")
    async with build_worker(env.client, world.sessions, task_queue):
        handle = await env.client.start_workflow(
            LotExpiryWorkflow.run,
            LotExpiryInput(actor="schedule:lot-expiry", batch=2),
            id=unique("lot-expiry"),
            task_queue=task_queue,
        )
        result: LotExpiryResult = await handle.result()
        if keep:
            await keep_history(handle, keep)
    return set(result.expired)


async def _lot(world: World, number: str) -> tuple[int, str, str | None]:
    """(id, stored status, who last changed it)."""
    async with world.sessions() as session:
        row = (
            await session.execute(
                text(
                    "SELECT id, status, status_changed_by FROM lots"
                    " WHERE tenant_id = :t AND lot_number = :n"
                ),
                {"t": world.tenant_id, "n": number},
            )
        ).one()
    return int(row.id), row.status, row.status_changed_by


async def _read(world: World, sku: str) -> queries.LevelRow:
    """GET /v1/inventory's level of `sku` at WH1."""
    async with world.sessions() as session:
        [row] = await queries.stock_levels(
            session,
            world.tenant_id,
            sku=sku,
            warehouse="WH1",
            location=None,
            after=None,
            limit=10,
            today=_today(),
        )
    return row


async def _age(world: World, lot: str, expires_on: date) -> None:
    """Days pass: the lot's expiry date is now `expires_on`."""
    async with world.sessions() as session, session.begin():
        await session.execute(
            text("UPDATE lots SET expires_on = :e WHERE tenant_id = :t AND lot_number = :n"),
            {"e": expires_on, "t": world.tenant_id, "n": lot},
        )


async def test_an_expired_lot_leaves_available_before_the_schedule_runs_and_after(
    world: World, time_skipping_env: WorkflowEnvironment
) -> None:
    today = _today()
    await world.receive("MILK", 4, lot="FRESH", expires_on=today + timedelta(days=30))
    await world.receive("MILK", 6, lot="OLD", expires_on=today - timedelta(days=1))

    # Before the schedule ran: every read, the plan and the reservation leave it out.
    level = await _read(world, "MILK")
    assert (level.on_hand, level.held, level.available) == (10, 6, 4)
    old = next(p for p in level.places if p.lot == "OLD")
    assert (old.lot_status, old.available) == ("expired", 0)
    assert [w.available for w in await reservable(world.sessions, world.tenant_id, "MILK")] == [4]
    with pytest.raises(InsufficientStock, match="needs 5, 4 available"):
        await world.reserve("MILK", 5)
    with pytest.raises(InvalidInput, match="'OLD' is expired"):
        await world.reserve("MILK", 1, lot="OLD")
    await world.reserve("MILK", 4)
    assert (await world.held("MILK"), await world.violations()) == (0, [])

    old_id, status, _ = await _lot(world, "OLD")
    assert status == "available"  # not marked yet
    # (the sweep is global: other tests' expired lots may be marked too)
    assert old_id in await _sweep(world, time_skipping_env, keep="lot_expiry_one_due")
    assert await _lot(world, "OLD") == (old_id, "expired", "schedule:lot-expiry")
    assert await world.held("MILK") == 6  # the level now says it
    level = await _read(world, "MILK")
    assert (level.on_hand, level.reserved, level.held, level.available) == (10, 4, 6, 0)
    assert await world.violations() == []

    assert old_id not in await _sweep(world, time_skipping_env)  # marked once
    assert await world.held("MILK") == 6


async def test_an_expired_lot_still_promised_is_marked_once_the_promise_is_released(
    world: World, time_skipping_env: WorkflowEnvironment
) -> None:
    today = _today()
    await world.receive("MILK", 5, lot="ONLY", expires_on=today + timedelta(days=1))
    reservation = await world.reserve("MILK", 3)
    await _age(world, "ONLY", today)  # a day later: expires today, so it is out
    lot_id, _, _ = await _lot(world, "ONLY")

    # The warehouse's reservation still counts on the lot: marking it would oversell.
    assert lot_id not in await _sweep(world, time_skipping_env)
    assert (await _lot(world, "ONLY"))[1] == "available"
    level = await _read(world, "MILK")
    assert (level.held, level.available) == (5, 0)  # the read leaves it out anyway
    with pytest.raises(InsufficientStock):
        await world.reserve("MILK", 1)

    await release(world.sessions, world.caller(), ReleaseReservation(reservation.id))
    assert lot_id in await _sweep(world, time_skipping_env)
    assert (await world.held("MILK"), await world.violations()) == (5, [])
