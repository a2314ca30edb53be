"""Reserving an order's lines (the activity `reserve_lines`, activities/orders.py):
every line planned on the step's one read (db/order_steps.py) and reserved in one
call, all kept or none (db/stock/steps.py `reserve_all`); when the stock moved
since that read and a line is short of its plan, nothing is kept and the lines
are reserved one by one, each planned on what is there now (`reserve_line`), as
they are when a SKU's stock is read the long way (lots past expiry).
Each line keeps its own key: a line recorded before replays its first result."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.refusals import ACTOR, business
from contracts.orders import LineNeed, LineReservation, ReservedPart, ReserveLinesInput
from db.order_steps import LineRead
from db.orders import reservable
from db.stock.operation import Caller, replayed
from db.stock.promising import reserve
from db.stock.steps import reserve_all
from domain.allocation import (
    WarehouseStock,
    decide_backorder,
    plan_reservation,
    plan_reservations,
)
from domain.errors import DomainError
from domain.stock import InsufficientStock, ReservationsResult, ReserveLine, ReserveStock


async def reserve_at_once(
    sessions: async_sessionmaker[AsyncSession],
    data: ReserveLinesInput,
    keys: list[str],
    reads: list[LineRead],
) -> list[ReservationsResult] | None:
    """Each line's result (`keys[n]`, `reads[n]`: line n's), every line planned on
    the step's one read and reserved in one call. None when that could not be: a
    line short of its plan (nothing was kept), or a SKU's stock to be read the
    long way (lots past expiry)."""
    todo = [n for n, read in enumerate(reads) if read.recorded is None]
    stocks = [stock for n in todo if (stock := reads[n].stock) is not None]
    if len(stocks) < len(todo):
        return None
    plans = plan_reservations(
        [
            (data.lines[n].sku, data.lines[n].quantity, stock)
            for n, stock in zip(todo, stocks, strict=True)
        ],
        preferred=data.preferred_warehouse,
        allow_split=data.allow_split,
    )
    answers = [
        ReservationsResult([])
        if read.recorded is None
        else replayed(read.recorded, ReservationsResult)
        for read in reads
    ]
    step = [
        (n, Caller(data.tenant_id, keys[n], ACTOR), _line_command(data, data.lines[n], plan))
        for n, plan in zip(todo, plans, strict=True)
        if plan  # nothing to reserve anywhere: the line is short, nothing recorded
    ]
    try:
        done = await reserve_all(sessions, [(caller, command) for _, caller, command in step])
    except InsufficientStock:
        return None
    except DomainError as error:
        raise business(error) from error
    for (n, _, _), result in zip(step, done, strict=True):
        answers[n] = result
    return answers


async def reserve_line(
    sessions: async_sessionmaker[AsyncSession],
    caller: Caller,
    data: ReserveLinesInput,
    need: LineNeed,
) -> ReservationsResult:
    """One line, planned on the stock there is now (read again each try)."""
    for _ in range(5):  # stock moves under us: plan again with what is there now
        stock = await reservable(sessions, data.tenant_id, need.sku)
        plan, _ = plan_reservation(
            stock,
            need.quantity,
            preferred=data.preferred_warehouse,
            allow_split=data.allow_split,
        )
        if not plan:
            return ReservationsResult([])
        try:
            return await reserve(sessions, caller, _line_command(data, need, plan))
        except InsufficientStock:
            continue
        except DomainError as error:
            raise business(error) from error
    return ReservationsResult([])


def line_reservation(read: LineRead, need: LineNeed, done: ReservationsResult) -> LineReservation:
    """What the step reports of a line: its parts, what is short, how much may wait."""
    parts = [
        ReservedPart(reservation_id=r.id, warehouse=r.warehouse, quantity=r.quantity)
        for r in done.reservations
    ]
    short = need.quantity - sum(p.quantity for p in parts)
    return LineReservation(
        line_id=need.line_id, parts=parts, short=short, may_wait=_may_wait(read, need, short)
    )


def _may_wait(read: LineRead, need: LineNeed, short: int) -> int:
    """How much of a short line may wait for stock (its item's backorder policy)."""
    if short == 0:
        return 0
    assert read.policy is not None, need.sku
    decision = decide_backorder(
        read.policy, short, limit=read.limit, already_backordered=read.waiting
    )
    return decision.backordered


def _line_command(
    data: ReserveLinesInput, need: LineNeed, plan: list[tuple[WarehouseStock, int]]
) -> ReserveStock:
    """The reservation of an order line where its plan says."""
    lines = [ReserveLine(w.code, need.sku, quantity) for w, quantity in plan]
    return ReserveStock(lines, "order", f"{data.order_number}/{need.line_id}")
