"""A plain receipt as one server-side call (migration 0019) against the reference
receipt it stands in for: the same receipts — plain, refused, with lots and
serials, into stock below its low-stock line or with nothing available (back in
stock: an event), under reused keys — played once through each path on twin worlds
must leave the same answers, rows, levels and events; a plain receipt is answered
by the function (the reference made to fail); two receipts under one key at once
book once."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from db import failures
from db.stock import on_hand
from db.stock.on_hand import receive, reference_receive
from domain.stock import IdempotencyConflict, MovementType, ReceiptLine, ReceiveStock
from tests.integration.same_key import at_once, records
from tests.integration.stock_world import World
from tests.integration.twin_worlds import books, deactivate, no_reference, play_movements, twin

SKUS = ["WIDGET", "GADGET", "LOWISH", "BOLT", "PHONE", "NOPE"]
PLACES = [("WH1", "A1"), ("WH1", "A2"), ("WH2", "A1"), ("WH1", "B1"), ("WH1", "ZZ"), ("GONE", "A1")]


def scenario(seed: int) -> list[tuple[str, ReceiveStock]]:
    """Receipts under keys (some reused): mostly plain lines of known items, some
    refused (an unknown item or place, an inactive location B1, a quantity not
    above zero), some the function leaves to the reference (a lot, serials, a
    level not there yet, GADGET at WH2 with all of it reserved: back in stock)."""
    rnd = random.Random(seed)
    steps = [  # every scenario: one into stock below its line, one back in stock
        ("low", ReceiveStock("WH1", "A1", [ReceiptLine("LOWISH", 1)])),
        ("back", ReceiveStock("WH2", "A1", [ReceiptLine("GADGET", 2)])),
    ]
    for n in range(24):
        key = f"k{rnd.randint(0, n)}" if rnd.random() < 0.15 else f"k{n}"
        warehouse, location = rnd.choice(PLACES[:3] * 6 + PLACES[3:])
        lines = []
        for _ in range(rnd.choice([1, 1, 2, 3])):
            sku = rnd.choice(SKUS[:3] * 5 + SKUS[3:])
            quantity = rnd.choice([1, 2, 3, 5, 8, 0, -1])
            lot = f"L{rnd.randint(1, 2)}" if sku == "BOLT" and rnd.random() < 0.8 else None
            serials = [f"S{n}-{k}" for k in range(quantity)] if sku == "PHONE" else []
            lines.append(ReceiptLine(sku, quantity, lot, serials=serials))
        kind = rnd.choice([MovementType.RECEIPT] * 4 + [MovementType.RETURN_RESTOCK])
        reference = rnd.choice([None, f"PO-{n}"])
        steps.append((key, ReceiveStock(warehouse, location, lines, reference, kind)))
    return steps


async def play(world: World, steps: list[tuple[str, ReceiveStock]], path: Any) -> list[Any]:
    """Each receipt's answer, movement ids as their rank in the world's ledger (after
    B1 is made inactive and all of GADGET at WH2 reserved)."""
    await world.reserve("GADGET", 4, warehouse="WH2")
    await deactivate(world, "B1")
    return await play_movements(world, steps, path)


@pytest.mark.parametrize("seed", range(5))
async def test_one_call_receipts_answer_and_book_exactly_as_the_reference(
    sessions: Any, seed: int
) -> None:
    stock = {"WIDGET@WH1": 6, "GADGET@WH2": 4, "LOWISH@WH1": 2}
    fast, reference = await twin(sessions, stock), await twin(sessions, stock)
    steps = scenario(seed)
    answers = await play(fast, steps, receive)
    assert answers == await play(reference, steps, reference_receive)
    assert await books(fast) == await books(reference)
    assert sum(1 for a in answers if isinstance(a[0], bool)) >= 5  # not all refused
    assert any(isinstance(a[0], str) for a in answers)  # and some refused
    events = [type_ for type_, *_ in (await books(fast))["events"]]
    assert "inventory.back_in_stock" in events  # GADGET at WH2, by the reference
    assert await fast.violations() == [] and await reference.violations() == []


async def test_plain_receipts_are_answered_by_the_function_alone(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.receive("WIDGET", 10)  # (its level is new: the reference makes it)
    monkeypatch.setattr(on_hand, "reference_receive", no_reference)
    caller = world.caller()
    lines = [ReceiptLine("WIDGET", 4), ReceiptLine("WIDGET", 1)]
    command = ReceiveStock("WH1", "A2", lines, "PO-9")
    made = await receive(world.sessions, caller, command)
    again = await receive(world.sessions, caller, command)
    assert [(m.sku, m.quantity, m.to_location) for m in made.movements] == [
        ("WIDGET", 4, "A2"),
        ("WIDGET", 1, "A2"),
    ]
    assert (made.replayed, again.replayed, again.movements) == (False, True, made.movements)
    with pytest.raises(AssertionError, match="the reference ran"):  # a lot: not the function's
        await receive(world.sessions, world.caller(), ReceiveStock("WH1", "A1", [_bolt()]))
    assert (await world.level("WIDGET"))["on_hand"] == 15
    assert await world.balance("WIDGET", "A2") == (5, 0)
    assert await world.violations() == []


def _bolt() -> ReceiptLine:
    return ReceiptLine("BOLT", 2, "L1")


async def test_the_function_defers_an_item_with_lots_even_without_one_named(world: World) -> None:
    await world.receive("BOLT", 3, lot="L1")
    call = text(
        "SELECT oms_receive(:t, 'k', 'h', 'WH1', 'A1', ARRAY['BOLT'], ARRAY[4]::bigint[],"
        " 'receipt', 'receipt', NULL, 'test')"
    )
    with pytest.raises(DBAPIError) as deferred:
        async with world.sessions() as session, session.begin():
            await session.scalar(call, {"t": world.tenant_id})
    assert failures.sqlstate(deferred.value) == "OMS01"
    assert (await world.level("BOLT"))["on_hand"] == 3


async def test_one_receipt_under_one_key_twice_at_once_is_booked_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.receive("WIDGET", 100)
    monkeypatch.setattr(on_hand, "reference_receive", no_reference)
    caller, size = world.caller(), await world.ledger_size()
    command = ReceiveStock("WH1", "A1", [ReceiptLine("WIDGET", 7)], "PO-1")
    first, second = await at_once(
        world,
        "oms_receive",
        receive(world.sessions, caller, command),
        receive(world.sessions, caller, command),
    )
    assert first.movements == second.movements
    assert sorted([first.replayed, second.replayed]) == [False, True]
    assert (await world.level("WIDGET"))["on_hand"] == 107
    assert await world.ledger_size() == size + 1
    assert await records(world, caller.idempotency_key) == 1


async def test_another_receipt_under_a_key_taken_at_once_is_a_conflict(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.receive("WIDGET", 100)
    monkeypatch.setattr(on_hand, "reference_receive", no_reference)
    caller = world.caller()
    answers = await at_once(
        world,
        "oms_receive",
        receive(world.sessions, caller, ReceiveStock("WH1", "A1", [ReceiptLine("WIDGET", 2)])),
        receive(world.sessions, caller, ReceiveStock("WH1", "A1", [ReceiptLine("WIDGET", 5)])),
    )
    conflicts = [a for a in answers if isinstance(a, IdempotencyConflict)]
    made = [a for a in answers if not isinstance(a, BaseException)]
    assert len(conflicts) == 1 and len(made) == 1 and not made[0].replayed
    assert (await world.level("WIDGET"))["on_hand"] == 100 + made[0].movements[0].quantity
    assert await records(world, caller.idempotency_key) == 1
