"""A plain move as one server-side call (migration 0020) against the reference move
it stands in for: the same moves — plain, refused, short of free stock, from a dock
(a putaway), of a lot, under reused keys — played once through each path
on twin worlds must leave the same answers, rows, levels and events; a plain move is
answered by the function (the reference made to fail); two moves under one key at
once move once."""

from __future__ import annotations

import random
from typing import Any

import pytest

from db.stock import on_hand
from db.stock.on_hand import move, reference_move
from domain.stock import IdempotencyConflict, MoveStock
from tests.integration.same_key import at_once, records
from tests.integration.stock_world import World
from tests.integration.twin_worlds import books, deactivate, no_reference, play_movements, twin


def scenario(seed: int) -> list[tuple[str, MoveStock]]:
    """Moves under keys (some reused): mostly plain moves of stock that is there,
    some refused (too much, an unknown item or place, the same place twice, an
    inactive location B1, a quantity not above zero), some the reference's alone (a
    lot)."""
    rnd = random.Random(seed)
    steps = [  # always: a putaway, and more than A1's free stock (20 on hand, 3 allocated)
        ("dock", MoveStock("WH1", "DOCK", "A2", "WIDGET", 2)),
        ("free", MoveStock("WH1", "A1", "A2", "WIDGET", 18)),
    ]
    for n in range(40):
        key = f"k{rnd.randint(0, n)}" if rnd.random() < 0.15 else f"k{n}"
        source = rnd.choice(["A1"] * 10 + ["DOCK"] * 5 + ["A2", "STAGE", "B1", "ZZ"])
        target = rnd.choice(["A2"] * 10 + ["A1"] * 3 + ["STAGE", "B1", "ZZ", "DOCK"])
        sku = rnd.choice(["WIDGET"] * 8 + ["GADGET"] * 3 + ["BOLT", "NOPE"])
        quantity = rnd.choice([1] * 6 + [2] * 3 + [3, 40, 0, -1])
        warehouse = rnd.choice(["WH1"] * 16 + ["WH2", "GONE"])
        lot = "L1" if sku == "BOLT" else None
        steps.append((key, MoveStock(warehouse, source, target, sku, quantity, lot)))
    return steps


async def play(world: World, steps: list[tuple[str, MoveStock]], path: Any) -> list[Any]:
    """Each move's answer, movement ids as their rank in the world's ledger (after
    stock is received at A1 and the dock, part of A1's allocated, B1 made inactive)."""
    await world.receive("WIDGET", 10, location="DOCK")
    await world.receive("BOLT", 4, lot="L1")
    await world.allocate((await world.reserve("WIDGET", 3)).id)  # 3 of A1's 20 allocated
    await deactivate(world, "B1")
    return await play_movements(world, steps, path)


@pytest.mark.parametrize("seed", range(5))
async def test_one_call_moves_answer_and_book_exactly_as_the_reference(
    sessions: Any, seed: int
) -> None:
    stock = {"WIDGET@WH1": 20, "GADGET@WH1": 8, "GADGET@WH2": 3}
    fast, reference = await twin(sessions, stock), await twin(sessions, stock)
    steps = scenario(seed)
    answers = await play(fast, steps, move)
    assert answers == await play(reference, steps, reference_move)
    assert await books(fast) == await books(reference)
    assert sum(1 for a in answers if isinstance(a[0], bool)) >= 8  # not all refused
    assert answers[1][0] == "InsufficientStock"  # allocated stock stays
    assert answers[0][1][0][1] == "putaway"  # from the dock
    assert await fast.violations() == [] and await reference.violations() == []


async def test_plain_moves_are_answered_by_the_function_alone(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.receive("WIDGET", 10)
    await world.receive("BOLT", 3, lot="L1")
    monkeypatch.setattr(on_hand, "reference_move", no_reference)
    caller = world.caller()
    command = MoveStock("WH1", "A1", "A2", "WIDGET", 4)
    made = await move(world.sessions, caller, command)
    again = await move(world.sessions, caller, command)
    [movement] = made.movements
    assert (movement.type, movement.from_location, movement.to_location) == ("move", "A1", "A2")
    assert (made.replayed, again.replayed, again.movements) == (False, True, made.movements)
    with pytest.raises(AssertionError, match="the reference ran"):  # short: the reference's
        await move(world.sessions, world.caller(), MoveStock("WH1", "A1", "A2", "WIDGET", 7))
    with pytest.raises(AssertionError, match="the reference ran"):  # a lot
        await move(world.sessions, world.caller(), MoveStock("WH1", "A1", "A2", "BOLT", 1, "L1"))
    assert await world.balance("WIDGET", "A1") == (6, 0)
    assert await world.balance("WIDGET", "A2") == (4, 0)
    assert (await world.level("WIDGET"))["on_hand"] == 10
    assert await world.violations() == []


async def test_one_move_under_one_key_twice_at_once_moves_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.receive("WIDGET", 10)
    monkeypatch.setattr(on_hand, "reference_move", no_reference)
    caller, size = world.caller(), await world.ledger_size()
    command = MoveStock("WH1", "A1", "A2", "WIDGET", 3)
    first, second = await at_once(
        world,
        "oms_move",
        move(world.sessions, caller, command),
        move(world.sessions, caller, command),
    )
    assert first.movements == second.movements
    assert sorted([first.replayed, second.replayed]) == [False, True]
    assert await world.balance("WIDGET", "A1") == (7, 0)
    assert await world.ledger_size() == size + 1
    assert await records(world, caller.idempotency_key) == 1


async def test_another_move_under_a_key_taken_at_once_is_a_conflict(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.receive("WIDGET", 10)
    monkeypatch.setattr(on_hand, "reference_move", no_reference)
    caller = world.caller()
    answers = await at_once(
        world,
        "oms_move",
        move(world.sessions, caller, MoveStock("WH1", "A1", "A2", "WIDGET", 2)),
        move(world.sessions, caller, MoveStock("WH1", "A1", "B1", "WIDGET", 5)),
    )
    conflicts = [a for a in answers if isinstance(a, IdempotencyConflict)]
    made = [a for a in answers if not isinstance(a, BaseException)]
    assert len(conflicts) == 1 and len(made) == 1 and not made[0].replayed
    moved = made[0].movements[0]
    assert await world.balance("WIDGET", moved.to_location or "") == (moved.quantity, 0)
    assert await records(world, caller.idempotency_key) == 1
