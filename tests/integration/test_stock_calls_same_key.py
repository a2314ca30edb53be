"""Two one-call stock operations under one idempotency key inside PostgreSQL at the
same moment (migration 0018: the key is recorded with the result, not claimed
first): the level row is held locked until both calls wait inside their
functions, then let go. The first to commit wins; the other replays its result,
or is an IdempotencyConflict when it asked something else. One effect either way."""

from __future__ import annotations

import pytest

from db.stock.promising import release, reserve
from domain.stock import IdempotencyConflict, ReleaseReservation, ReserveLine, ReserveStock
from tests.integration.same_key import at_once, records
from tests.integration.stock_world import World


async def test_one_reservation_under_one_key_twice_at_once_is_made_once_and_replayed(
    world: World,
) -> None:
    await world.receive("WIDGET", 100)
    caller = world.caller()
    command = ReserveStock([ReserveLine("WH1", "WIDGET", 3)], "order", "SO-1")
    first, second = await at_once(
        world,
        "oms_reserve",
        reserve(world.sessions, caller, command),
        reserve(world.sessions, caller, command),
    )
    assert first.reservations == second.reservations
    assert sorted([first.replayed, second.replayed]) == [False, True]
    assert (await world.level("WIDGET"))["reserved"] == 3
    assert await records(world, caller.idempotency_key) == 1


async def test_another_reservation_under_a_key_taken_at_once_is_a_conflict(
    world: World,
) -> None:
    await world.receive("WIDGET", 100)
    caller = world.caller()
    answers = await at_once(
        world,
        "oms_reserve",
        reserve(world.sessions, caller, ReserveStock([ReserveLine("WH1", "WIDGET", 2)], "order")),
        reserve(world.sessions, caller, ReserveStock([ReserveLine("WH1", "WIDGET", 5)], "order")),
    )
    conflicts = [a for a in answers if isinstance(a, IdempotencyConflict)]
    made = [a for a in answers if not isinstance(a, BaseException)]
    assert len(conflicts) == 1 and len(made) == 1 and not made[0].replayed
    assert (await world.level("WIDGET"))["reserved"] == made[0].reservations[0].quantity
    assert await records(world, caller.idempotency_key) == 1


@pytest.mark.parametrize("quantity", [None, 2])
async def test_one_release_under_one_key_twice_at_once_releases_once(
    world: World, quantity: int | None
) -> None:
    await world.receive("WIDGET", 100)
    reservation = await world.reserve("WIDGET", 5)
    caller = world.caller()
    command = ReleaseReservation(reservation.id, quantity)
    first, second = await at_once(
        world,
        "oms_release",
        release(world.sessions, caller, command),
        release(world.sessions, caller, command),
    )
    assert first.reservations == second.reservations
    assert sorted([first.replayed, second.replayed]) == [False, True]
    assert (await world.level("WIDGET"))["reserved"] == 5 - (quantity or 5)
    assert await records(world, caller.idempotency_key) == 1
