"""An order's allocation step as one server-side call (migration 0023,
db/stock/steps.py `allocate_all`) against the reference for a step
(`reference_allocate_all`: each allocation as the reference does it, all in one
transaction, a reservation with nothing left left out): test_allocate_calls'
scenarios, their allocations taken in steps of up to three, run once through
each path on twin worlds, must leave the same answers, rows, levels and events —
and a step refused anywhere keeps nothing of its earlier allocations."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.stock import promising, steps
from db.stock.operation import Caller
from domain.errors import DomainError
from domain.stock import (
    AllocateReservation,
    Deallocate,
    ReleaseReservation,
    ReserveLine,
    ReserveStock,
)
from tests.integration.stock_world import World
from tests.integration.test_allocate_calls import Ids, allocation_answer, scenario, twin
from tests.integration.test_stock_calls_steps import _called, _counting, _not_called
from tests.integration.twin_worlds import books, kept
from tests.integration.twin_worlds import twin as plain_twin

NOTHING_LEFT = ("nothing left",)


def in_steps(scenario_steps: list[tuple[Any, ...]]) -> list[list[tuple[Any, ...]]]:
    """Consecutive allocations as one step of up to three; anything else alone."""
    grouped: list[list[tuple[Any, ...]]] = []
    for step in scenario_steps:
        last = grouped[-1] if grouped else None
        if last and step[0] == last[0][0] == "allocate" and len(last) < 3:
            last.append(step)
        else:
            grouped.append([step])
    return grouped


async def play(world: World, groups: list[list[tuple[Any, ...]]], allocate_all: Any) -> list[Any]:
    """Each step's answers: a step of allocations through `allocate_all`, every other
    operation as one call (the same on both worlds)."""
    ids = Ids()
    answers: list[Any] = []
    before = await kept(world)
    for group in groups:
        caller = Caller(world.tenant_id, group[0][1], "test")
        kind = group[0][0]
        try:
            if kind == "allocate":
                step = [
                    (
                        Caller(world.tenant_id, s[1], "test"),
                        AllocateReservation(
                            ids.real("reservation", s[2]), s[3], s[4], s[4] and "r"
                        ),
                    )
                    for s in group
                ]
                results = await allocate_all(world.sessions, step)
                answers += [
                    NOTHING_LEFT if r is None else allocation_answer(ids, r) for r in results
                ]
            elif kind == "reserve":
                lines = [ReserveLine("WH1", group[0][2], group[0][3])]
                reserving = ReserveStock(lines, "order", "O")
                reserved = await promising.reserve(world.sessions, caller, reserving)
                answers.append([ids.of("reservation", r.id) for r in reserved.reservations])
            elif kind == "release":
                releasing = ReleaseReservation(ids.real("reservation", group[0][2]))
                released = await promising.release(world.sessions, caller, releasing)
                answers.append([r.quantity for r in released.reservations])
            else:
                aid = ids.real("allocation", group[0][2])
                result = await promising.deallocate(
                    world.sessions, caller, Deallocate(aid, group[0][3])
                )
                answers.append(allocation_answer(ids, result))
        except DomainError as refusal:
            answers.append((type(refusal).__name__, ids.words(refusal.detail), refusal.field))
            if kind == "allocate":  # refused anywhere: nothing of the step was kept
                assert await kept(world) == before
        before = await kept(world)
    return answers


# Scenarios in which at least three allocations go through and one reservation
# with nothing left is left out of its step; the function serves two steps or more.
SEEDS = [0, 1, 7, 11, 16, 19]


@pytest.mark.parametrize("seed", SEEDS)
async def test_an_allocation_step_in_one_call_answers_and_books_exactly_as_the_reference(
    sessions: async_sessionmaker[AsyncSession], seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipts, hours, scenario_steps = scenario(seed)
    fast = await twin(sessions, receipts, hours)
    reference = await twin(sessions, receipts, hours)
    groups = in_steps(scenario_steps)
    deferred: list[int] = []  # the sizes of the steps the function left to the reference
    monkeypatch.setattr(
        steps, "reference_allocate_all", _counting(steps.reference_allocate_all, deferred)
    )
    answers = await play(fast, groups, steps.allocate_all)
    monkeypatch.undo()
    expected = await play(reference, groups, steps.reference_allocate_all)
    assert answers == expected
    assert await books(fast) == await books(reference)
    assert await fast.violations() == [] and await reference.violations() == []
    allocated = [a for a in answers if isinstance(a, tuple) and isinstance(a[0], bool) and a[2]]
    assert len(allocated) >= 3  # not all refused
    assert NOTHING_LEFT in answers  # a reservation left out of its step
    allocation_steps = [g for g in groups if g[0][0] == "allocate"]
    assert any(len(g) > 1 for g in allocation_steps)  # steps of several
    assert len(allocation_steps) - len(deferred) >= 2  # not all left to the reference


async def test_a_plain_allocation_step_is_one_call_answered_in_the_order_asked(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The function answers a step of two items itself (no reference), in the
    order asked though it runs them by item; a replay next to a new allocation is
    served too."""
    for sku in ("WIDGET", "GADGET"):
        await world.receive(sku, 10)
    gadget, widget = await world.reserve("GADGET", 3), await world.reserve("WIDGET", 2)
    monkeypatch.setattr(steps, "reference_allocate_all", _not_called)
    step = [
        (Caller(world.tenant_id, "a-gadget", "test"), AllocateReservation(gadget.id)),
        (Caller(world.tenant_id, "a-widget", "test"), AllocateReservation(widget.id)),
    ]
    results = await steps.allocate_all(world.sessions, step)
    assert [(r.reservation.sku, r.reservation.status) for r in results if r and r.reservation] == [
        ("GADGET", "allocated"),
        ("WIDGET", "allocated"),
    ]
    assert [sum(a.quantity for a in r.allocations) for r in results if r] == [3, 2]
    again = await steps.allocate_all(world.sessions, step)
    assert [r.replayed for r in again if r] == [True, True]
    assert (await world.level("WIDGET"))["allocated"] == 2
    assert (await world.level("GADGET"))["allocated"] == 3
    assert await world.violations() == []


async def test_a_reservation_released_meanwhile_is_left_out_and_the_rest_allocated(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The function defers (nothing left), the reference leaves that reservation
    out of the step (None) and allocates the others in the same transaction."""
    for sku in ("WIDGET", "GADGET"):
        await world.receive(sku, 10)
    widget, gadget = await world.reserve("WIDGET", 2), await world.reserve("GADGET", 3)
    await promising.release(world.sessions, world.caller(), ReleaseReservation(widget.id))
    deferred: list[int] = []
    monkeypatch.setattr(
        steps, "reference_allocate_all", _counting(steps.reference_allocate_all, deferred)
    )
    step = [
        (Caller(world.tenant_id, "b-widget", "test"), AllocateReservation(widget.id)),
        (Caller(world.tenant_id, "b-gadget", "test"), AllocateReservation(gadget.id)),
    ]
    left_out, allocated = await steps.allocate_all(world.sessions, step)
    assert deferred == [2]
    assert left_out is None
    assert allocated is not None and [a.quantity for a in allocated.allocations] == [3]
    assert (await world.level("WIDGET"))["reserved"] == 0
    assert (await world.level("WIDGET"))["allocated"] == 0
    assert (await world.level("GADGET"))["allocated"] == 3
    assert await world.violations() == []


async def test_an_allocation_step_refused_at_its_second_reservation_keeps_nothing(
    world: World,
) -> None:
    """WIDGET runs first (by item), then GADGET's quantity is over what it holds:
    the step is refused with the reference's words, WIDGET stays reserved, its
    key free, and the step asked again without the fault goes through."""
    for sku in ("WIDGET", "GADGET"):
        await world.receive(sku, 10)
    gadget, widget = await world.reserve("GADGET", 3), await world.reserve("WIDGET", 2)
    positions = await _called(
        world,
        "SELECT array_agg(n) FROM oms_reservation_order(:t, CAST(:r AS bigint[])) AS n",
        r=[gadget.id, widget.id],
    )
    assert positions == [2, 1]  # WIDGET (made first, a lower item id) runs first
    before = await kept(world)
    step = [
        (Caller(world.tenant_id, "c-gadget", "test"), AllocateReservation(gadget.id, 4)),
        (Caller(world.tenant_id, "c-widget", "test"), AllocateReservation(widget.id)),
    ]
    with pytest.raises(DomainError) as refused:
        await steps.allocate_all(world.sessions, step)
    assert type(refused.value).__name__ == "InvalidInput"
    assert refused.value.field == "quantity"
    assert await kept(world) == before
    assert (await world.level("WIDGET"))["reserved"] == 2
    step[0] = (step[0][0], AllocateReservation(gadget.id, 3))
    results = await steps.allocate_all(world.sessions, step)
    assert [r.replayed for r in results if r] == [False, False]
    assert (await world.level("WIDGET"))["allocated"] == 2
    assert await world.violations() == []


async def test_the_function_refused_for_a_key_of_another_request_keeps_nothing(
    world: World,
) -> None:
    await world.receive("WIDGET", 10)
    first, second = await world.reserve("WIDGET", 2), await world.reserve("WIDGET", 3)
    await _called(world, "SELECT oms_release(:t, 'k-taken', 'h', :r, 1, false)", r=second.id)
    with pytest.raises(DBAPIError) as deferred:
        await _called(
            world,
            "SELECT oms_allocate_all(:t, ARRAY['d1', 'k-taken'], ARRAY['h', 'h'],"
            " CAST(:r AS bigint[]), ARRAY[NULL, NULL]::bigint[], ARRAY[NULL, NULL]::text[],"
            " ARRAY[NULL, NULL]::text[])",
            r=[first.id, second.id],
        )
    assert deferred.value.orig.sqlstate == "OMS01"  # type: ignore[union-attr]
    assert (await world.level("WIDGET"))["allocated"] == 0
    assert (await world.level("WIDGET"))["reserved"] == 4


async def test_allocation_steps_over_the_same_items_in_opposite_orders_never_deadlock(
    sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    """Eight allocation steps of two items at once, half asking WIDGET first, half
    GADGET: each step runs by item, so they wait for each other in one order and
    none is undone by a deadlock (PostgreSQL would break one, the call retry it)."""
    caplog.set_level(logging.INFO)
    world = await plain_twin(sessions, {"WIDGET@WH1": 16, "GADGET@WH1": 16})
    asked, orders = [], []
    for n in range(8):
        ids = {sku: (await world.reserve(sku, 2)).id for sku in ("WIDGET", "GADGET")}
        orders.append(("WIDGET", "GADGET") if n % 2 else ("GADGET", "WIDGET"))
        asked.append(
            [
                (Caller(world.tenant_id, f"s{n}-{sku}", "test"), AllocateReservation(ids[sku]))
                for sku in orders[-1]
            ]
        )
    results = await asyncio.gather(*(steps.allocate_all(world.sessions, s) for s in asked))
    for order, allocated in zip(orders, results, strict=True):  # answered in the order asked
        assert [r.reservation.sku for r in allocated if r and r.reservation] == list(order)
    for sku in ("WIDGET", "GADGET"):
        level = await world.level(sku)
        assert (level["reserved"], level["allocated"]) == (0, 16)
    assert not [r for r in caplog.records if "40P01" in r.getMessage()]
    assert await world.violations() == []
