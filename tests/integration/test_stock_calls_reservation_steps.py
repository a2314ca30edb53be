"""An order's reservation step as one server-side call (migration 0024,
db/stock/steps.py `reserve_all`) against the reference for a step
(`reference_reserve_all`: each line's reservation as the reference does it, all
in one transaction): seeded steps of one to three commands (lines at two
warehouses, SKUs near a low-stock threshold, unknown SKUs, keys used again, more
than there is) run once through each path on twin worlds must leave the same
answers, rows, levels and events — and a step refused anywhere keeps nothing of
its earlier lines. Then the order's reservation step (activities/orders.py
`reserve_lines`): in one call when its plan holds, line by line when the stock
moved since its read."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

import activities.order_lines
import activities.orders
from activities.orders import OrderActivities
from contracts.orders import LineNeed, ReserveLinesInput
from db.order_steps import line_reads
from db.stock import promising, steps
from db.stock.operation import Caller
from domain.errors import DomainError
from domain.stock import (
    InsufficientStock,
    ReleaseReservation,
    ReservationsResult,
    ReserveLine,
    ReserveStock,
)
from tests.conftest import unique
from tests.integration.stock_world import World
from tests.integration.test_allocate_calls import Ids
from tests.integration.test_stock_calls_steps import _called, _counting, _not_called
from tests.integration.twin_worlds import books, kept, twin

SKUS = ["WIDGET", "GADGET", "LOWISH"]
WAREHOUSES = ["WH1", "WH2"]

Command = tuple[str, list[tuple[str, str, int]]]  # key, lines (warehouse, sku, quantity)


def scenario(seed: int) -> tuple[dict[str, int], list[tuple[Any, ...]]]:
    """Stock ("SKU@WAREHOUSE": quantity) and steps: ("step", [command, ...]) or
    ("release", key, nth reservation). A step may repeat an earlier one (a replay)."""
    rnd = random.Random(seed)
    stock = {f"{sku}@{w}": rnd.randint(4, 24) for sku in SKUS for w in WAREHOUSES}
    made: list[tuple[Any, ...]] = []
    for n in range(20):
        roll = rnd.random()
        if roll < 0.15 and made:
            made.append(rnd.choice(made))
        elif roll < 0.3:
            made.append(("release", f"r{n}", rnd.randint(0, 12)))
        else:
            commands: list[Command] = []
            for m in range(rnd.randint(1, 3)):
                key = f"k{rnd.randint(0, n)}-{m}" if rnd.random() < 0.1 else f"k{n}-{m}"
                lines = [
                    (
                        rnd.choice(WAREHOUSES),
                        "NOPE" if rnd.random() < 0.04 else rnd.choice(SKUS),
                        rnd.randint(1, 4),
                    )
                    for _ in range(rnd.randint(1, 2))
                ]
                commands.append((key, lines))
            made.append(("step", commands))
    return stock, made


async def play(world: World, scenario_steps: list[tuple[Any, ...]], reserve_all: Any) -> list[Any]:
    ids = Ids()
    answers: list[Any] = []
    before = await kept(world)
    for step in scenario_steps:
        try:
            if step[0] == "release":
                caller = Caller(world.tenant_id, step[1], "test")
                command = ReleaseReservation(ids.real("reservation", step[2]))
                released = await promising.release(world.sessions, caller, command)
                answers.append([r.quantity for r in released.reservations])
            else:
                reserves = [
                    (
                        Caller(world.tenant_id, key, "test"),
                        ReserveStock([ReserveLine(*line) for line in lines], "order", key),
                    )
                    for key, lines in step[1]
                ]
                results = await reserve_all(world.sessions, reserves)
                answers += [_answer(ids, result) for result in results]
        except DomainError as refusal:
            answers.append((type(refusal).__name__, ids.words(refusal.detail), refusal.field))
            if step[0] == "step":  # refused anywhere: nothing of the step was kept
                assert await kept(world) == before
        before = await kept(world)
    return answers


def _answer(ids: Ids, result: ReservationsResult) -> tuple[Any, ...]:
    return (
        result.replayed,
        [
            (ids.of("reservation", r.id), r.warehouse, r.sku, r.requested, r.quantity, r.status)
            for r in result.reservations
        ],
    )


# Scenarios in which ten lines or more are reserved, two steps or more are short,
# two lines or more replayed, and the function serves five steps or more.
SEEDS = [0, 1, 3, 4, 5, 12]


@pytest.mark.parametrize("seed", SEEDS)
async def test_a_reservation_step_in_one_call_answers_and_books_exactly_as_the_reference(
    sessions: async_sessionmaker[AsyncSession], seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    stock, scenario_steps = scenario(seed)
    fast, reference = await twin(sessions, stock), await twin(sessions, stock)
    deferred: list[int] = []  # the sizes of the steps the function left to the reference
    monkeypatch.setattr(
        steps, "reference_reserve_all", _counting(steps.reference_reserve_all, deferred)
    )
    answers = await play(fast, scenario_steps, steps.reserve_all)
    monkeypatch.undo()
    expected = await play(reference, scenario_steps, steps.reference_reserve_all)
    assert answers == expected
    assert await books(fast) == await books(reference)
    assert await fast.violations() == [] and await reference.violations() == []
    reserved = [a for a in answers if isinstance(a[0], bool) and a[1]]
    assert len(reserved) >= 10  # not all refused
    assert sum(1 for a in answers if a[0] == "InsufficientStock") >= 2  # steps refused
    assert sum(1 for a in answers if a[0] is True) >= 2  # lines replayed
    step_count = sum(1 for s in scenario_steps if s[0] == "step")
    assert step_count - len(deferred) >= 5  # not all left to the reference


async def test_a_plain_step_is_one_call_answered_in_the_order_asked(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The function answers a step of two lines itself (GADGET asked first runs
    second: by item), and the same step again replays both."""
    for sku in ("WIDGET", "GADGET"):
        await world.receive(sku, 10)
    monkeypatch.setattr(steps, "reference_reserve_all", _not_called)
    step = [
        (Caller(world.tenant_id, "p-gadget", "test"), _command("GADGET", 3)),
        (Caller(world.tenant_id, "p-widget", "test"), _command("WIDGET", 2, "WH1", 1)),
    ]
    assert await _line_order(world, step) == [2, 1]  # WIDGET (a lower item id) first
    results = await steps.reserve_all(world.sessions, step)
    assert [[(r.sku, r.quantity) for r in result.reservations] for result in results] == [
        [("GADGET", 3)],
        [("WIDGET", 2), ("WIDGET", 1)],
    ]
    widget, gadget = (await world.level("WIDGET"))["reserved"], await world.level("GADGET")
    assert (widget, gadget["reserved"]) == (3, 3)
    again = await steps.reserve_all(world.sessions, step)
    assert [r.replayed for r in again] == [True, True]
    assert (await world.level("WIDGET"))["reserved"] == 3
    assert await world.violations() == []


async def test_a_step_short_at_its_second_line_keeps_nothing_and_names_the_short_line(
    world: World,
) -> None:
    for sku in ("WIDGET", "GADGET"):
        await world.receive(sku, 4)
    before = await kept(world)
    step = [
        (Caller(world.tenant_id, "s-gadget", "test"), _command("GADGET", 5)),
        (Caller(world.tenant_id, "s-widget", "test"), _command("WIDGET", 2)),
    ]
    assert await _line_order(world, step) == [2, 1]  # WIDGET runs first, GADGET is short
    with pytest.raises(InsufficientStock) as short:
        await steps.reserve_all(world.sessions, step)
    assert "GADGET" in short.value.detail and "WIDGET" not in short.value.detail
    assert await kept(world) == before
    assert (await world.level("WIDGET"))["reserved"] == 0
    step[0] = (step[0][0], _command("GADGET", 4))
    results = await steps.reserve_all(world.sessions, step)
    assert [r.replayed for r in results] == [False, False]
    assert await world.violations() == []


async def test_the_step_functions_defer_when_their_arrays_do_not_match(world: World) -> None:
    """Not from our callers, but kept from harm: a reservation line naming a step line
    that is not there, an allocation step with fewer reservations than keys."""
    await world.receive("WIDGET", 5)
    widget = await world.reserve("WIDGET", 2)
    mismatched = [
        "SELECT oms_reserve_all(:t, ARRAY['m1'], ARRAY['h'], ARRAY['order'], ARRAY['o'],"
        " ARRAY[NULL]::timestamptz[], CURRENT_DATE, ARRAY[2], ARRAY['WH1'], ARRAY['WIDGET'],"
        " ARRAY[1]::bigint[])",
        "SELECT oms_allocate_all(:t, ARRAY['m2', 'm3'], ARRAY['h', 'h'], CAST(:r AS bigint[]),"
        " ARRAY[NULL]::bigint[], ARRAY[NULL]::text[], ARRAY[NULL]::text[])",
    ]
    for sql in mismatched:
        with pytest.raises(DBAPIError) as deferred:
            await _called(world, sql, r=[widget.id])
        assert deferred.value.orig.sqlstate == "OMS01"  # type: ignore[union-attr]
    level = await world.level("WIDGET")
    assert (level["reserved"], level["allocated"]) == (2, 0)
    assert await world.violations() == []


async def test_reservation_steps_over_the_same_items_in_opposite_orders_never_deadlock(
    sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    """Sixteen steps of two lines at once, half asking WIDGET first, half GADGET:
    each step runs its lines by item, so none is undone by a deadlock."""
    caplog.set_level(logging.INFO)
    world = await twin(sessions, {"WIDGET@WH1": 32, "GADGET@WH1": 32})
    asked, orders = [], []
    for n in range(16):
        orders.append(("WIDGET", "GADGET") if n % 2 else ("GADGET", "WIDGET"))
        asked.append(
            [
                (Caller(world.tenant_id, f"c{n}-{sku}", "test"), _command(sku, 2))
                for sku in orders[-1]
            ]
        )
    results = await asyncio.gather(*(steps.reserve_all(world.sessions, s) for s in asked))
    for order, reserved in zip(orders, results, strict=True):  # answered in the order asked
        assert [r.reservations[0].sku for r in reserved] == list(order)
    for sku in ("WIDGET", "GADGET"):
        assert (await world.level(sku))["reserved"] == 32
    assert not [r for r in caplog.records if "40P01" in r.getMessage()]
    assert await world.violations() == []


async def _line_order(world: World, step: list[tuple[Caller, ReserveStock]]) -> Any:
    """The positions (from 1) oms_line_order runs a step's lines in."""
    lines = [(n, x) for n, (_, command) in enumerate(step, start=1) for x in command.lines]
    return await _called(
        world,
        "SELECT array_agg(n) FROM oms_line_order(:t, CAST(:l AS int[]), CAST(:w AS text[]),"
        " CAST(:s AS text[])) AS n",
        l=[n for n, _ in lines],
        w=[x.warehouse for _, x in lines],
        s=[x.sku for _, x in lines],
    )


def _command(sku: str, quantity: int, *more: Any) -> ReserveStock:
    lines = [ReserveLine("WH1", sku, quantity)]
    if more:
        lines.append(ReserveLine(more[0], sku, more[1]))
    return ReserveStock(lines, "order", f"SO/{sku}")


def _order(world: World, lines: list[tuple[str, int]]) -> ReserveLinesInput:
    return ReserveLinesInput(
        tenant_id=world.tenant_id,
        key=unique("reserve"),
        order_number=unique("SO"),
        lines=[LineNeed(line_id=str(n), sku=sku, quantity=q) for n, (sku, q) in enumerate(lines)],
        preferred_warehouse=None,
        allow_split=True,
    )


async def test_an_order_step_reserves_its_lines_in_one_call_when_its_plan_holds(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.receive("WIDGET", 3)
    await world.receive("WIDGET", 4, warehouse="WH2")
    await world.receive("GADGET", 5)
    calls: list[int] = []
    monkeypatch.setattr(activities.order_lines, "reserve_all", _counting(steps.reserve_all, calls))
    monkeypatch.setattr(activities.order_lines, "reserve", _not_called)  # no line by line
    data = _order(world, [("WIDGET", 5), ("GADGET", 2), ("WIDGET", 4)])
    result = await ActivityEnvironment().run(OrderActivities(world.sessions).reserve_lines, data)
    assert calls == [3]
    assert [[(p.warehouse, p.quantity) for p in line.parts] for line in result.lines] == [
        [("WH1", 3), ("WH2", 2)],
        [("WH1", 2)],
        [("WH2", 2)],  # what the first WIDGET line left
    ]
    assert [line.short for line in result.lines] == [0, 0, 2]
    again = await ActivityEnvironment().run(OrderActivities(world.sessions).reserve_lines, data)
    assert again == result  # replayed: the keys recorded
    assert (await world.level("WIDGET"))["reserved"] == 3
    assert (await world.level("WIDGET", "WH2"))["reserved"] == 4
    assert await world.violations() == []


async def test_an_order_step_asked_again_replays_its_recorded_line_and_reserves_the_rest(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first line committed before (a worker that reserved line by line, then
    died): asked again, the step replays it and reserves the other in one call."""
    await world.receive("WIDGET", 5)
    await world.receive("GADGET", 5)
    data = _order(world, [("WIDGET", 2), ("GADGET", 3)])
    before = ReserveStock([ReserveLine("WH1", "WIDGET", 2)], "order", f"{data.order_number}/0")
    first = await promising.reserve(
        world.sessions, Caller(world.tenant_id, f"{data.key}/0", "workflow"), before
    )
    calls: list[int] = []
    monkeypatch.setattr(activities.order_lines, "reserve_all", _counting(steps.reserve_all, calls))
    result = await ActivityEnvironment().run(OrderActivities(world.sessions).reserve_lines, data)
    assert calls == [1]  # GADGET alone in the one call
    replayed_line = result.lines[0]  # the reservation committed before, not a new one
    assert [p.reservation_id for p in replayed_line.parts] == [first.reservations[0].id]
    assert [(line.short, sum(p.quantity for p in line.parts)) for line in result.lines] == [
        (0, 2),
        (0, 3),
    ]
    assert (await world.level("WIDGET"))["reserved"] == 2
    assert (await world.level("GADGET"))["reserved"] == 3
    assert await world.violations() == []


async def test_an_order_step_whose_stock_moved_since_its_read_reserves_line_by_line(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another order takes WIDGET between the step's read and its call: the one
    call is refused whole (nothing kept), and the lines are planned again one by
    one on what is there now: GADGET in full, WIDGET what is left."""
    await world.receive("WIDGET", 5)
    await world.receive("GADGET", 5)
    read = line_reads

    async def read_then_taken(*args: Any) -> Any:
        reads = await read(*args)
        await world.reserve("WIDGET", 4)  # another order, after the read
        return reads

    monkeypatch.setattr(activities.orders, "line_reads", read_then_taken)
    refused: list[int] = []
    monkeypatch.setattr(activities.order_lines, "reserve_all", _refused(refused))
    one_by_one: list[ReservationsResult] = []
    monkeypatch.setattr(activities.order_lines, "reserve", _noting(one_by_one))
    data = _order(world, [("GADGET", 2), ("WIDGET", 3)])
    result = await ActivityEnvironment().run(OrderActivities(world.sessions).reserve_lines, data)
    assert refused == [2]  # the one call, refused whole
    # GADGET reserved anew, not replayed: the refused call kept nothing of it
    assert [(r.replayed, [x.sku for x in r.reservations]) for r in one_by_one] == [
        (False, ["GADGET"]),
        (False, ["WIDGET"]),
    ]
    assert [sum(p.quantity for p in line.parts) for line in result.lines] == [2, 1]
    assert [line.short for line in result.lines] == [0, 2]
    assert (await world.level("WIDGET"))["reserved"] == 5
    assert (await world.level("GADGET"))["reserved"] == 2
    assert await world.violations() == []


def _refused(sizes: list[int]) -> Any:
    """steps.reserve_all, noting the size of each step it refused as short."""

    async def reserve_all(sessions: Any, reserves: Any) -> Any:
        try:
            return await steps.reserve_all(sessions, reserves)
        except InsufficientStock:
            sizes.append(len(reserves))
            raise

    return reserve_all


def _noting(results: list[ReservationsResult]) -> Any:
    """promising.reserve, noting each result."""

    async def reserve(*args: Any) -> Any:
        results.append(await promising.reserve(*args))
        return results[-1]

    return reserve
