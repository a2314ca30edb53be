"""The one-call stock operations (db/stock/calls.py, migration 0015) against the
reference implementation they stand in for: the same scenario of reservations,
releases, refusals, replays and reused keys, run once through each path on twin
worlds, must leave the same answers, rows, levels and events."""

from __future__ import annotations

import random
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.stock import promising
from db.stock.operation import Caller
from domain.errors import DomainError
from domain.stock import ReleaseReservation, ReservationsResult, ReserveLine, ReserveStock
from tests.integration.stock_world import World
from tests.integration.twin_worlds import books, twin

Reserve = Callable[..., Awaitable[ReservationsResult]]
SKUS = ["WIDGET", "GADGET", "LOWISH", "NOPE"]


def scenario(seed: int) -> tuple[dict[str, int], list[tuple[Any, ...]]]:
    """Stock and a list of steps: ("reserve", key, lines, source_type) or
    ("release", key, nth reservation made (or a missing one), quantity, expired)."""
    rnd = random.Random(seed)
    stock = {f"{sku}@{wh}": rnd.randint(2, 12) for sku in SKUS[:3] for wh in ("WH1", "WH2")}
    steps: list[tuple[Any, ...]] = []
    for n in range(24):
        key = f"k{rnd.randint(0, n)}" if rnd.random() < 0.15 else f"k{n}"  # some keys reused
        if rnd.random() < 0.6:
            lines = [
                (
                    rnd.choice(["WH1", "WH2"] * 6 + ["GONE"]),
                    rnd.choice(SKUS[:3] * 6 + SKUS[3:]),
                    rnd.choice([1, 1, 2, 3, 4, 5, 0, -1]),
                )
                for _ in range(rnd.choice([1, 1, 1, 2, 3]))
            ]
            steps.append(("reserve", key, lines, rnd.choice(["order"] * 9 + [" "])))
        else:
            steps.append(
                (
                    "release",
                    key,
                    rnd.randint(0, 12),
                    rnd.choice([None, None, 1, 2, 7, 0]),
                    rnd.random() < 0.2,
                )
            )
    return stock, steps


async def play(
    world: World, steps: list[tuple[Any, ...]], reserve: Reserve, release: Reserve
) -> list[Any]:
    """Each step's answer, with reservation ids as the order they were made in."""
    made: list[int] = []
    answers: list[Any] = []
    for step in steps:
        caller = Caller(world.tenant_id, step[1], "test")
        try:
            if step[0] == "reserve":
                lines = [ReserveLine(w, sku, q) for w, sku, q in step[2]]
                result = await reserve(world.sessions, caller, ReserveStock(lines, step[3]))
            else:
                nth = step[2]
                rid = made[nth] if nth < len(made) else 10**12 + nth
                command = ReleaseReservation(rid, step[3], step[4])
                result = await release(world.sessions, caller, command)
        except DomainError as refusal:
            detail = refusal.detail
            for n, rid in enumerate(made):
                detail = re.sub(rf"reservation {rid}\b", f"reservation #{n}", detail)
            answers.append((type(refusal).__name__, detail, refusal.field))
            continue
        for r in result.reservations:
            if r.id not in made:
                made.append(r.id)
        answers.append(
            (
                result.replayed,
                [
                    (made.index(r.id), r.warehouse, r.sku, r.requested, r.quantity, r.status)
                    for r in result.reservations
                ],
            )
        )
    return answers


@pytest.mark.parametrize("seed", range(5))
async def test_one_call_operations_answer_and_book_exactly_as_the_reference(
    sessions: async_sessionmaker[AsyncSession], seed: int
) -> None:
    stock, steps = scenario(seed)
    fast, reference = await twin(sessions, stock), await twin(sessions, stock)
    answers = await play(fast, steps, promising.reserve, promising.release)
    expected = await play(
        reference, steps, promising.reference_reserve, promising.reference_release
    )
    assert answers == expected
    assert await books(fast) == await books(reference)
    assert sum(1 for a in answers if isinstance(a[0], bool)) >= 3  # not all refused
    assert await fast.violations() == [] and await reference.violations() == []


async def test_a_plain_reservation_and_its_release_are_one_call_each(world: World) -> None:
    """Not left to the reference: the server functions answer a plain case."""
    await world.receive("WIDGET", 10)
    async with world.sessions() as session, session.begin():
        reserved = await session.scalar(
            text(
                "SELECT oms_reserve(:t, 'one-call', 'h', ARRAY['WH1'], ARRAY['WIDGET'],"
                " ARRAY[4]::bigint[], 'order', 'O-1', NULL, current_date)"
            ),
            {"t": world.tenant_id},
        )
    assert reserved["result"]["reservations"][0]["quantity"] == 4
    rid = reserved["result"]["reservations"][0]["id"]
    assert (await world.level("WIDGET"))["reserved"] == 4
    async with world.sessions() as session, session.begin():
        released = await session.scalar(
            text("SELECT oms_release(:t, 'one-call-release', 'h', :r, NULL, false)"),
            {"t": world.tenant_id, "r": rid},
        )
    assert released["result"]["reservations"][0]["status"] == "released"
    assert (await world.level("WIDGET"))["reserved"] == 0
