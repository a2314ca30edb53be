"""Pick, ship and put back as one server-side call each (migration 0016) against
the reference implementation they stand in for: the same scenario of picks (whole,
short, refused), ships and put backs, replays and reused keys, run once through
each path on twin worlds, must leave the same answers, rows, ledger, levels and
events."""

from __future__ import annotations

import random
import re
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.stock import fulfilling
from db.stock.operation import Caller
from domain.errors import DomainError
from domain.stock import AllocationResult, PickAllocation, PutBack, ShipAllocation
from tests.integration.stock_world import World
from tests.integration.twin_worlds import books, twin

Operation = Callable[..., Awaitable[AllocationResult]]
FAST = (fulfilling.pick, fulfilling.ship, fulfilling.put_back)
REFERENCE = (fulfilling.reference_pick, fulfilling.reference_ship, fulfilling.reference_put_back)
# (sku, warehouse, lot): lines reserved and allocated before the scenario starts
PROMISES: list[tuple[str, str, str | None]] = [
    ("WIDGET", "WH1", None),
    ("LOWISH", "WH1", None),
    ("WIDGET", "WH2", None),
    ("MILK", "WH1", "L1"),
]


def scenario(seed: int) -> tuple[dict[str, int], list[int], list[tuple[Any, ...]]]:
    """Stock at A1, quantities promised (reserved, then allocated) in PROMISES'
    order, and steps: ("pick", key, nth, quantity or "all", to), ("ship", key, nth)
    or ("put_back", key, nth, to). nth (see `target`) mostly names an allocation
    open in the status the step needs."""
    rnd = random.Random(seed)
    promised = [rnd.randint(1, 6) for _ in PROMISES]
    stock = {"WIDGET@WH1": promised[0] + rnd.randint(0, 8), "LOWISH@WH1": promised[1]}
    stock["LOWISH@WH1"] += rnd.choice([0, 0, 1, 5])  # put backs and picks near its lines
    stock["WIDGET@WH2"] = promised[2] + rnd.randint(0, 3)
    steps: list[tuple[Any, ...]] = []
    for n in range(30):
        key = f"k{rnd.randint(0, n)}" if rnd.random() < 0.12 else f"k{n}"  # some keys reused
        nth = rnd.choice([0, 0, 0, 1, 1, 2, 3] * 2 + [50 + rnd.randint(0, 9), MISSING])
        kind = rnd.choice(["pick"] * 4 + ["ship"] * 3 + ["put_back"] * 2)
        if kind == "pick":
            quantity = rnd.choice(["all"] * 4 + [1, 1, 2, 3, 0, -1, 99])
            to = rnd.choice(["STAGE"] * 9 + ["DOCK", "B1", "A1", "NOPE"])
            steps.append(("pick", key, nth, quantity, to))
        elif kind == "ship":
            steps.append(("ship", key, nth))
        else:
            to = rnd.choice(["A1", "A1", "A2", "B1", "STAGE", "NOPE"])
            steps.append(("put_back", key, nth, to))
    return stock, promised, steps


async def promise(world: World, promised: list[int]) -> list[int]:
    """Reserve and allocate PROMISES: the allocations made, in order."""
    await world.receive("MILK", promised[3] + 2, lot="L1", expires_on=date(2099, 1, 1))
    made = []
    for (sku, warehouse, lot), quantity in zip(PROMISES, promised, strict=True):
        reservation = await world.reserve(sku, quantity, warehouse=warehouse, lot=lot)
        made += [a.id for a in (await world.allocate(reservation.id)).allocations]
    return made


MISSING = 99


def target(step: tuple[Any, ...], made: list[int], open_in: dict[int, str]) -> int:
    """The allocation a step names: MISSING, one that does not exist; 50 + k the
    k-th made (modulo); otherwise the nth (modulo) of those open in the status
    the step needs (allocated for a pick, picked otherwise)."""
    nth: int = step[2]
    if nth == MISSING:
        return 10**12
    if nth >= 50:
        return made[(nth - 50) % len(made)]
    wanted = "allocated" if step[0] == "pick" else "picked"
    ready = [a for a in made if open_in.get(a) == wanted] or made
    return ready[nth % len(ready)]


async def play(world: World, made: list[int], steps: list[tuple[Any, ...]], ops: Any) -> list[Any]:
    """Each step's answer, with allocation ids as the order they were made in."""
    pick, ship, put_back = ops
    open_quantity: dict[int, int] = {}
    open_in = dict.fromkeys(made, "allocated")  # by id: the status of what is open
    answers: list[Any] = []
    for step in steps:
        caller = Caller(world.tenant_id, step[1], "test")
        aid = target(step, made, open_in)
        try:
            if step[0] == "pick":
                quantity = open_quantity.get(aid, 1) if step[3] == "all" else step[3]
                result = await pick(world.sessions, caller, PickAllocation(aid, quantity, step[4]))
            elif step[0] == "ship":
                result = await ship(world.sessions, caller, ShipAllocation(aid))
            else:
                result = await put_back(world.sessions, caller, PutBack(aid, step[3]))
        except DomainError as refusal:
            answers.append(refused(refusal, made))
            continue
        answers.append(answered(result, made, open_quantity, open_in))
    return answers


def refused(refusal: DomainError, made: list[int]) -> tuple[Any, ...]:
    """A refusal as an answer, allocation ids as the order they were made in."""
    detail = refusal.detail
    for n, known in enumerate(made):
        detail = re.sub(rf"allocation {known}\b", f"allocation #{n}", detail)
    return (type(refusal).__name__, detail, refusal.field)


def answered(
    result: AllocationResult,
    made: list[int],
    open_quantity: dict[int, int],
    open_in: dict[int, str],
) -> tuple[Any, ...]:
    """A result as an answer; what it made and left open is noted for later steps."""
    for a in result.allocations:
        if a.id not in made:
            made.append(a.id)
        open_quantity[a.id] = a.quantity if a.status in ("allocated", "picked") else 0
        open_in[a.id] = a.status if open_quantity[a.id] else "closed"
    assert result.reservation is None
    return (
        result.replayed,
        result.shortfall,
        [
            (made.index(a.id), a.warehouse, a.location, a.sku, a.lot, a.quantity, a.status)
            for a in result.allocations
        ],
    )


async def _worlds(
    sessions: async_sessionmaker[AsyncSession], seed: int
) -> tuple[World, list[int], World, list[int], list[tuple[Any, ...]]]:
    stock, promised, steps = scenario(seed)
    fast, reference = await twin(sessions, stock), await twin(sessions, stock)
    return fast, await promise(fast, promised), reference, await promise(reference, promised), steps


@pytest.mark.parametrize("seed", range(6))
async def test_one_call_fulfilment_answers_and_books_exactly_as_the_reference(
    sessions: async_sessionmaker[AsyncSession], seed: int
) -> None:
    fast, fast_made, reference, reference_made, steps = await _worlds(sessions, seed)
    answers = await play(fast, fast_made, steps, FAST)
    expected = await play(reference, reference_made, steps, REFERENCE)
    assert answers == expected
    assert await books(fast) == await books(reference)
    assert sum(1 for a in answers if isinstance(a[0], bool)) >= 5  # not all refused
    assert await fast.violations() == [] and await reference.violations() == []


async def _called(world: World, sql: str, **params: Any) -> Any:
    async with world.sessions() as session, session.begin():
        return await session.scalar(text(sql), {"t": world.tenant_id, **params})


async def test_a_plain_pick_ship_and_put_back_are_one_call_each(world: World) -> None:
    """Not left to the reference: the server functions answer a plain case."""
    await world.receive("WIDGET", 10)
    reservation = await world.reserve("WIDGET", 6)
    allocation = (await world.allocate(reservation.id)).allocations[0].id
    picked = await _called(
        world, "SELECT oms_pick(:t, 'p', 'h', 'test', :a, 4, 'STAGE')", a=allocation
    )
    staged, rest = picked["result"]["allocations"]
    assert (staged["location"], staged["quantity"], staged["status"]) == ("STAGE", 4, "picked")
    assert (rest["quantity"], rest["status"], picked["result"]["shortfall"]) == (2, "allocated", 2)
    assert await world.balance("WIDGET", "STAGE") == (4, 4)
    shipped = await _called(world, "SELECT oms_ship(:t, 's', 'h', 'test', :a)", a=staged["id"])
    assert shipped["result"]["allocations"][0]["status"] == "shipped"
    assert await world.balance("WIDGET", "STAGE") == (0, 0)
    assert (await world.level("WIDGET"))["on_hand"] == 6
    second = await _called(
        world, "SELECT oms_pick(:t, 'p2', 'h', 'test', :a, 2, 'STAGE')", a=allocation
    )
    back = await _called(
        world,
        "SELECT oms_put_back(:t, 'b', 'h', 'test', :a, 'B1')",
        a=second["result"]["allocations"][0]["id"],
    )
    assert back["result"]["allocations"][0]["status"] == "released"
    assert await world.balance("WIDGET", "B1") == (2, 0)
    assert (await world.level("WIDGET"))["allocated"] == 0
    assert await world.violations() == []


async def test_a_put_back_that_brings_an_item_back_in_stock_is_left_to_the_reference(
    world: World,
) -> None:
    """The event is the reference's to write: the function defers, nothing kept."""
    await world.receive("WIDGET", 3)
    reservation = await world.reserve("WIDGET", 3)
    allocation = (await world.allocate(reservation.id)).allocations[0].id
    picked = await fulfilling.pick(
        world.sessions, world.caller(), PickAllocation(allocation, 3, "STAGE")
    )
    with pytest.raises(Exception, match="nears a threshold"):
        await _called(
            world,
            "SELECT oms_put_back(:t, 'b', 'h', 'test', :a, 'A1')",
            a=picked.allocations[0].id,
        )
    assert await world.balance("WIDGET", "STAGE") == (3, 3)
    await fulfilling.put_back(
        world.sessions, world.caller(), PutBack(picked.allocations[0].id, "A1")
    )
    assert await world.balance("WIDGET", "A1") == (3, 0)
    async with world.sessions() as session:
        events = await session.scalars(
            text("SELECT type FROM events WHERE tenant_id = :t"), {"t": world.tenant_id}
        )
        assert "inventory.back_in_stock" in list(events)
