"""A warehouse step's picks or ships as one server-side call (migration 0022,
db/stock/steps.py `pick_all`, `ship_all`) against the reference for a step (`reference_pick_all`,
`reference_ship_all`: each operation as the reference does it, all in one
transaction): test_stock_calls_fulfilment's scenario, its picks and ships taken
in steps of up to three, run once through each path on twin worlds, must leave
the same answers, rows, ledger, levels and events — and a step refused anywhere
keeps nothing of its earlier operations."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.stock import fulfilling, steps
from db.stock.operation import Caller
from domain.errors import DomainError
from domain.stock import AllocationResult, PickAllocation, PutBack, ShipAllocation
from tests.integration.stock_world import World
from tests.integration.test_stock_calls_fulfilment import (
    answered,
    promise,
    refused,
    scenario,
    target,
)
from tests.integration.twin_worlds import books, kept, twin

WHOLE = (steps.pick_all, steps.ship_all)
REFERENCE = (steps.reference_pick_all, steps.reference_ship_all)
# Scenarios whose steps both go through and are refused: a step refused early
# (a bad quantity in it) leaves nothing picked for the rest of some others.
SEEDS = [0, 3, 4, 5, 11, 14]


def in_steps(steps: list[tuple[Any, ...]]) -> list[list[tuple[Any, ...]]]:
    """Consecutive picks (or ships) as one step of up to three; a put back alone."""
    grouped: list[list[tuple[Any, ...]]] = []
    for step in steps:
        last = grouped[-1] if grouped else None
        if last and step[0] != "put_back" and last[0][0] == step[0] and len(last) < 3:
            last.append(step)
        else:
            grouped.append([step])
    return grouped


async def play(
    world: World, made: list[int], groups: list[list[tuple[Any, ...]]], ops: Any
) -> list[Any]:
    """Each step's answer (a group of the scenario's steps: one call), with
    allocation ids as the order they were made in."""
    pick_all, ship_all = ops
    open_quantity: dict[int, int] = {}
    open_in = dict.fromkeys(made, "allocated")  # by id: the status of what is open
    answers: list[Any] = []
    before = await kept(world)
    for group in groups:
        kind = group[0][0]
        calls: list[tuple[Caller, Any]] = []
        left = dict(open_in)  # an allocation is named once in a step, where it can be
        for step in group:
            caller = Caller(world.tenant_id, step[1], "test")
            aid = target(step, made, left)
            left[aid] = "closed"
            if kind == "pick":
                quantity = open_quantity.get(aid, 1) if step[3] == "all" else step[3]
                calls.append((caller, PickAllocation(aid, quantity, step[4])))
            elif kind == "ship":
                calls.append((caller, ShipAllocation(aid)))
            else:
                calls.append((caller, PutBack(aid, step[3])))
        try:
            if kind == "pick":
                results: list[AllocationResult] = await pick_all(world.sessions, calls)
            elif kind == "ship":
                results = await ship_all(world.sessions, calls)
            else:
                results = [await fulfilling.reference_put_back(world.sessions, *calls[0])]
        except DomainError as refusal:
            answers.append(refused(refusal, made))
            # refused anywhere: nothing of the step was kept
            assert await kept(world) == before
            continue
        before = await kept(world)
        answers += [answered(r, made, open_quantity, open_in) for r in results]
    return answers


@pytest.mark.parametrize("seed", SEEDS)
async def test_a_step_in_one_call_answers_and_books_exactly_as_the_reference(
    sessions: async_sessionmaker[AsyncSession], seed: int
) -> None:
    stock, promised, steps = scenario(seed)
    fast, reference = await twin(sessions, stock), await twin(sessions, stock)
    fast_made, reference_made = await promise(fast, promised), await promise(reference, promised)
    answers = await play(fast, fast_made, in_steps(steps), WHOLE)
    expected = await play(reference, reference_made, in_steps(steps), REFERENCE)
    assert answers == expected
    assert await books(fast) == await books(reference)
    assert sum(1 for a in answers if isinstance(a[0], bool)) >= 9  # not all refused
    assert sum(1 for a in answers if not isinstance(a[0], bool)) >= 2  # some steps refused
    assert await fast.violations() == [] and await reference.violations() == []


# Steps of plain stock (allocations named by the order they were made in: 50 + k),
# most of which the functions answer: whole, partly picked, replayed with new
# operations beside, and two they leave to the reference (a key of another
# request; a quantity over what is left), refused whole: each at an operation
# that runs second (WH2 after WH1), after one the reference did.
PLAIN_STEPS: list[list[tuple[Any, ...]]] = [
    [("pick", "p1", 50, 1, "STAGE"), ("pick", "p2", 51, 3, "STAGE")],
    [("ship", "s1", 54), ("ship", "s2", 55)],
    [("pick", "p3", 52, 1, "STAGE"), ("pick", "p4", 53, 4, "STAGE")],
    [("ship", "p1", 56), ("ship", "s3", 57)],
    [("ship", "s3", 56), ("ship", "s4", 57)],
    [("pick", "p5", 50, 1, "STAGE"), ("pick", "p6", 52, 5, "STAGE")],
    [("pick", "p1", 50, 1, "STAGE"), ("pick", "p7", 52, 1, "STAGE"), ("pick", "p8", 50, 2, "B1")],
]


async def test_plain_steps_are_answered_by_the_functions_as_the_reference_answers(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    stock = {"WIDGET@WH1": 6, "GADGET@WH1": 9, "WIDGET@WH2": 2}
    promised = [("WIDGET", "WH1", 3), ("GADGET", "WH1", 3), ("WIDGET", "WH2", 2)]
    promised.append(("GADGET", "WH1", 4))
    worlds = []
    for _ in range(2):
        world, made = await twin(sessions, stock), []
        for sku, warehouse, quantity in promised:
            reservation = await world.reserve(sku, quantity, warehouse=warehouse)
            made += [a.id for a in (await world.allocate(reservation.id)).allocations]
        worlds.append((world, made))
    (fast, fast_made), (reference, reference_made) = worlds
    deferred: list[int] = []  # the sizes of the steps the functions left to the reference
    for name in ("reference_pick_all", "reference_ship_all"):
        monkeypatch.setattr(steps, name, _counting(getattr(steps, name), deferred))
    answers = await play(fast, fast_made, PLAIN_STEPS, WHOLE)
    monkeypatch.undo()
    expected = await play(reference, reference_made, PLAIN_STEPS, REFERENCE)
    assert answers == expected
    assert await books(fast) == await books(reference)
    assert deferred == [2, 2]  # the conflict and the quantity over what is left
    assert [a[0] for a in answers].count("IdempotencyConflict") == 1
    assert [a[0] for a in answers].count("InvalidInput") == 1
    assert [a[0] for a in answers if isinstance(a[0], bool)] == [False] * 8 + [True, False, False]
    assert await fast.violations() == [] and await reference.violations() == []


async def test_steps_over_the_same_items_in_opposite_orders_at_once_wait_and_never_deadlock(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Eight picks of two items at once, half asking WIDGET first, half GADGET: each
    step runs by item, so they wait for each other in one order and none is undone
    by a deadlock (PostgreSQL would break one, and the call retry it)."""
    caplog.set_level(logging.INFO)
    for sku in ("WIDGET", "GADGET"):
        await world.receive(sku, 40)
    asked, orders = [], []
    for n in range(8):
        ids = {}
        for sku in ("WIDGET", "GADGET"):
            reservation = await world.reserve(sku, 2)
            ids[sku] = (await world.allocate(reservation.id)).allocations[0].id
        orders.append(("WIDGET", "GADGET") if n % 2 else ("GADGET", "WIDGET"))
        asked.append(
            [
                (
                    Caller(world.tenant_id, f"s{n}-{sku}", "test"),
                    PickAllocation(ids[sku], 2, "STAGE"),
                )
                for sku in orders[-1]
            ]
        )
    results = await asyncio.gather(*(steps.pick_all(world.sessions, s) for s in asked))
    for order, picked in zip(orders, results, strict=True):  # answered in the order asked
        assert [(r.allocations[0].sku, r.allocations[0].status) for r in picked] == [
            (sku, "picked") for sku in order
        ]
    for sku in ("WIDGET", "GADGET"):
        assert await world.balance(sku, "STAGE") == (16, 16)
        assert await world.balance(sku, "A1") == (24, 0)
    assert not [r for r in caplog.records if "40P01" in r.getMessage()]
    assert await world.violations() == []


def _counting(reference: Any, sizes: list[int]) -> Any:
    async def counted(sessions: Any, calls: list[Any]) -> Any:
        sizes.append(len(calls))
        return await reference(sessions, calls)

    return counted


async def test_a_plain_step_is_one_call_and_a_key_of_another_request_keeps_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not left to the reference: the step's function answers a plain pick and ship
    of two allocations. A step one of whose keys was recorded for another request
    defers (SQLSTATE OMS01) before anything of it is kept."""
    allocations = []
    for sku in ("WIDGET", "GADGET"):
        await world.receive(sku, 10)
        reservation = await world.reserve(sku, 3)
        allocations.append((await world.allocate(reservation.id)).allocations[0].id)
    taken = await world.reserve("WIDGET", 1)  # 'k-taken' releases it: another request
    await _called(
        world,
        "SELECT oms_release(:t, 'k-taken', 'h', :r, NULL, false)",
        r=taken.id,
    )
    ledger = await world.ledger_size()
    with pytest.raises(DBAPIError) as deferred:
        await _called(
            world,
            "SELECT oms_pick_all(:t, ARRAY['p1', 'k-taken'], ARRAY['h', 'h'], 'test',"
            " CAST(:a AS bigint[]), ARRAY[3, 3]::bigint[], ARRAY['STAGE', 'STAGE'])",
            a=allocations,
        )
    assert deferred.value.orig.sqlstate == "OMS01"  # type: ignore[union-attr]
    assert await world.ledger_size() == ledger
    assert await world.balance("WIDGET", "STAGE") == (0, 0)

    picked = await _called(
        world,
        "SELECT oms_pick_all(:t, ARRAY['p1', 'p2'], ARRAY['h', 'h'], 'test',"
        " CAST(:a AS bigint[]), ARRAY[3, 3]::bigint[], ARRAY['STAGE', 'STAGE'])",
        a=allocations,
    )
    staged = [answer["result"]["allocations"][0] for answer in picked]
    assert [(a["sku"], a["location"], a["status"]) for a in staged] == [
        ("WIDGET", "STAGE", "picked"),
        ("GADGET", "STAGE", "picked"),
    ]
    shipped = await _called(
        world,
        "SELECT oms_ship_all(:t, ARRAY['s1', 's2'], ARRAY['h', 'h'], 'test', CAST(:a AS bigint[]))",
        a=[a["id"] for a in staged],
    )
    assert [answer["result"]["allocations"][0]["status"] for answer in shipped] == [
        "shipped",
        "shipped",
    ]
    for sku in ("WIDGET", "GADGET"):
        assert await world.balance(sku, "STAGE") == (0, 0)
        assert (await world.level(sku))["on_hand"] == 7
    assert (await world.level("WIDGET"))["reserved"] == 0
    assert await world.violations() == []

    # The same through the Python operations: the functions answer, no reference.
    for name in ("reference_pick_all", "reference_ship_all"):
        monkeypatch.setattr(steps, name, _not_called)
    for sku in ("WIDGET", "GADGET"):
        reservation = await world.reserve(sku, 2)
        allocations.append((await world.allocate(reservation.id)).allocations[0].id)
    picks = [
        (Caller(world.tenant_id, f"pick-{n}", "test"), PickAllocation(aid, 2, "STAGE"))
        for n, aid in enumerate(allocations[2:])
    ]
    picked_results = await steps.pick_all(world.sessions, picks)
    ships = [
        (Caller(world.tenant_id, f"ship-{n}", "test"), ShipAllocation(r.allocations[0].id))
        for n, r in enumerate(picked_results)
    ]
    shipped_results = await steps.ship_all(world.sessions, ships)
    assert [r.allocations[0].status for r in shipped_results] == ["shipped", "shipped"]
    assert (await world.level("GADGET"))["on_hand"] == 5
    assert await world.violations() == []


async def _not_called(*_: Any) -> Any:
    raise AssertionError("left to the reference")


async def _called(world: World, sql: str, **params: Any) -> Any:
    async with world.sessions() as session, session.begin():
        return await session.scalar(text(sql), {"t": world.tenant_id, **params})
