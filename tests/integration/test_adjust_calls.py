"""A plain adjustment (and scrap) as one server-side call (migration 0021) against
the reference adjustment it stands in for: the same adjustments — up and down,
refused, short of free stock, across the low-stock and out-of-stock lines (events),
of a lot, under reused keys — played once through each path on twin worlds must
leave the same answers, rows, levels and events; a plain adjustment is answered by
the function (the reference made to fail); two adjustments under one key at once
adjust once."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db import failures
from db.catalogue import create_warehouse
from db.master_data import update_warehouse
from db.stock import calls, on_hand
from db.stock.fulfilling import scrap
from db.stock.on_hand import adjust, reference_adjust
from domain.catalogue import LocationSpec, LocationType, WarehouseSpec
from domain.stock import AdjustStock, IdempotencyConflict, MovementType
from tests.integration.same_key import at_once, records
from tests.integration.stock_world import World
from tests.integration.twin_worlds import books, deactivate, no_reference, play_movements, twin

SCRAP = MovementType.SCRAP


def scenario(seed: int) -> list[tuple[str, AdjustStock]]:
    """Adjustments under keys (some reused): mostly plain ones of stock that is there,
    some refused (more than the free stock, an unknown item or place, an inactive
    location B1 or warehouse WH3, a delta of zero, a blank reason), some the
    reference's alone (a lot, BOLT without one, PHONE without serials, a fall to
    LOWISH's low-stock line or to nothing: events)."""
    rnd = random.Random(seed)
    steps = [  # always: a rise into a new balance, a fall into allocated stock, a
        # scrap, LOWISH (5 on hand, line at 3) down to its line, GADGET at WH2 out
        ("up", AdjustStock("WH1", "A2", "WIDGET", 2, "found behind the shelf")),
        ("short", AdjustStock("WH1", "A1", "WIDGET", -18, "count")),
        ("scrap", AdjustStock("WH1", "A1", "GADGET", -1, "crushed", movement_type=SCRAP)),
        ("low", AdjustStock("WH1", "A1", "LOWISH", -2, "damaged")),
        ("out", AdjustStock("WH2", "A1", "GADGET", -3, "lost")),
        ("closed", AdjustStock("WH3", "A1", "WIDGET", -1, "recount")),  # inactive
        ("bolt", AdjustStock("WH1", "A1", "BOLT", 1, "found")),  # tracks lots, none named
        ("phone", AdjustStock("WH1", "A1", "PHONE", 1, "found")),  # tracks serials
    ]
    for n in range(40):
        key = f"k{rnd.randint(0, n)}" if rnd.random() < 0.15 else f"k{n}"
        location = rnd.choice(["A1"] * 10 + ["A2"] * 4 + ["DOCK", "STAGE", "B1", "ZZ"])
        sku = rnd.choice(["WIDGET"] * 8 + ["GADGET"] * 3 + ["LOWISH", "BOLT", "PHONE", "NOPE"])
        delta = rnd.choice([1, 1, 2, 3, -1, -1, -2, -3, -40, 0])
        warehouse = rnd.choice(["WH1"] * 16 + ["WH2", "WH3", "GONE"])
        reason = rnd.choice(["recount"] * 8 + ["  "])
        lot = "L1" if sku == "BOLT" and rnd.random() < 0.7 else None  # else: none named
        kind = rnd.choice([MovementType.ADJUST] * 3 + [SCRAP]) if delta < 0 else MovementType.ADJUST
        command = AdjustStock(warehouse, location, sku, delta, reason, lot, movement_type=kind)
        steps.append((key, command))
    return steps


async def closed_warehouse(world: World) -> None:
    """WH3, with 5 WIDGET at its A1, made inactive."""
    async with world.sessions() as session, session.begin():
        spec = WarehouseSpec("WH3", "WH3", 3)
        await create_warehouse(
            session, world.tenant_id, spec, [LocationSpec("WH3", "A1", LocationType.BIN)]
        )
    await world.receive("WIDGET", 5, warehouse="WH3")
    async with world.sessions() as session, session.begin():
        await update_warehouse(session, world.tenant_id, "WH3", {"active": False})


async def play(world: World, steps: list[tuple[str, AdjustStock]], path: Any) -> list[Any]:
    """Each adjustment's answer, movement ids as their rank in the world's ledger
    (after BOLT and a PHONE are received, 3 of WIDGET's 20 at A1 allocated, B1 and
    WH3 made inactive)."""
    await world.receive("BOLT", 4, lot="L1")
    await world.receive("PHONE", 1, serials=["SN-1"])
    await world.allocate((await world.reserve("WIDGET", 3)).id)
    await deactivate(world, "B1")
    await closed_warehouse(world)
    return await play_movements(world, steps, path)


def counting_answers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The operations the server-side functions answered from now on (not deferred)."""
    answered: list[str] = []
    answer = calls._answer

    async def counted(sessions: Any, operation: str, sql: str, params: Any) -> Any:
        got = await answer(sessions, operation, sql, params)
        if got is not None:
            answered.append(operation)
        return got

    monkeypatch.setattr(calls, "_answer", counted)
    return answered


@pytest.mark.parametrize("seed", range(5))
async def test_one_call_adjustments_answer_and_book_exactly_as_the_reference(
    sessions: Any, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    stock = {"WIDGET@WH1": 20, "GADGET@WH1": 8, "GADGET@WH2": 3, "LOWISH@WH1": 5}
    fast, reference = await twin(sessions, stock), await twin(sessions, stock)
    steps = scenario(seed)
    answered = counting_answers(monkeypatch)
    answers = await play(fast, steps, adjust)
    assert answered.count("adjust") >= 5  # the function answered, not only the reference
    assert answers == await play(reference, steps, reference_adjust)
    assert await books(fast) == await books(reference)
    assert sum(1 for a in answers if isinstance(a[0], bool)) >= 10  # not all refused
    assert answers[0][1][0][1:] == ("adjust", "WIDGET", 2, None, "A2", None)
    assert answers[1][0] == "InsufficientStock"  # allocated stock stays
    assert answers[2][1][0][1:] == ("scrap", "GADGET", 1, "A1", None, None)
    assert answers[5][0] == "InvalidInput"  # WH3 is inactive
    events = [(type_, subject) for type_, subject, *_ in (await books(fast))["events"]]
    assert ("inventory.low_stock", "WH1/LOWISH") in events  # by the reference
    assert ("inventory.out_of_stock", "WH2/GADGET") in events
    assert await fast.violations() == [] and await reference.violations() == []


async def test_plain_adjustments_and_scrap_are_answered_by_the_function_alone(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.receive("WIDGET", 10)
    await world.receive("BOLT", 3, lot="L1")
    monkeypatch.setattr(on_hand, "reference_adjust", no_reference)
    caller = world.caller()
    command = AdjustStock("WH1", "A1", "WIDGET", -4, "water damage")
    made = await adjust(world.sessions, caller, command)
    again = await adjust(world.sessions, caller, command)
    [movement] = made.movements
    assert (movement.type, movement.from_location, movement.to_location) == ("adjust", "A1", None)
    assert (made.replayed, again.replayed, again.movements) == (False, True, made.movements)
    up = await adjust(
        world.sessions, world.caller(), AdjustStock("WH1", "A2", "WIDGET", 3, "found")
    )
    assert (up.movements[0].from_location, up.movements[0].to_location) == (None, "A2")
    scrapped = await scrap(
        world.sessions, world.caller(), AdjustStock("WH1", "A1", "WIDGET", 1, "crushed")
    )
    assert (scrapped.movements[0].type, scrapped.movements[0].quantity) == ("scrap", 1)
    with pytest.raises(AssertionError, match="the reference ran"):  # short: the reference's
        await adjust(world.sessions, world.caller(), AdjustStock("WH1", "A1", "WIDGET", -6, "x"))
    with pytest.raises(AssertionError, match="the reference ran"):  # a lot
        await adjust(
            world.sessions, world.caller(), AdjustStock("WH1", "A1", "BOLT", -1, "x", "L1")
        )
    assert await world.balance("WIDGET", "A1") == (5, 0)
    assert await world.balance("WIDGET", "A2") == (3, 0)
    assert (await world.level("WIDGET"))["on_hand"] == 8
    assert await world.violations() == []


@pytest.mark.parametrize("sku", ["BOLT", "PHONE"])
async def test_the_function_defers_an_item_that_tracks_lots_or_serials_without_one_named(
    world: World, sku: str
) -> None:
    """Stock that rises past both lines into a level that exists: only the item's
    tracking stops the function (a fall would stop at the lot-less balance anyway)."""
    await world.receive("BOLT", 3, lot="L1")
    await world.receive("PHONE", 1, serials=["SN-1"])
    call = text("SELECT oms_adjust(:t, 'k', 'h', 'WH1', 'A1', :sku, 1, 'adjust', 'x', 'test')")
    with pytest.raises(DBAPIError) as deferred:
        async with world.sessions() as session, session.begin():
            await session.scalar(call, {"t": world.tenant_id, "sku": sku})
    assert failures.sqlstate(deferred.value) == "OMS01"


async def test_one_adjustment_under_one_key_twice_at_once_adjusts_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.receive("WIDGET", 10)
    monkeypatch.setattr(on_hand, "reference_adjust", no_reference)
    caller, size = world.caller(), await world.ledger_size()
    command = AdjustStock("WH1", "A1", "WIDGET", -3, "recount")
    first, second = await at_once(
        world,
        "oms_adjust",
        adjust(world.sessions, caller, command),
        adjust(world.sessions, caller, command),
    )
    assert first.movements == second.movements
    assert sorted([first.replayed, second.replayed]) == [False, True]
    assert await world.balance("WIDGET", "A1") == (7, 0)
    assert await world.ledger_size() == size + 1
    assert await records(world, caller.idempotency_key) == 1


async def test_another_adjustment_under_a_key_taken_at_once_is_a_conflict(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.receive("WIDGET", 10)
    monkeypatch.setattr(on_hand, "reference_adjust", no_reference)
    caller = world.caller()
    answers = await at_once(
        world,
        "oms_adjust",
        adjust(world.sessions, caller, AdjustStock("WH1", "A1", "WIDGET", -2, "recount")),
        adjust(world.sessions, caller, AdjustStock("WH1", "A1", "WIDGET", 5, "recount")),
    )
    conflicts = [a for a in answers if isinstance(a, IdempotencyConflict)]
    made = [a for a in answers if not isinstance(a, BaseException)]
    assert len(conflicts) == 1 and len(made) == 1 and not made[0].replayed
    [moved] = made[0].movements
    on_hand_now = 10 - moved.quantity if moved.from_location else 10 + moved.quantity
    assert await world.balance("WIDGET", "A1") == (on_hand_now, 0)
    assert await records(world, caller.idempotency_key) == 1
