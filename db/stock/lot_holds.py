"""Putting a lot on hold (or in quarantine): the mirror of `release_lot`. Its on-hand
stock moves into `held` at every warehouse, and the stock promised from it is pulled
in the same transaction: allocations not yet picked are released (their orders are
told, and ask for the quantity again, from other lots or as a backorder), and
reservations pinned to the lot are released. Refused while units of the lot are
picked (at staging) or allocated to a transfer: held stock is the lot's whole on
hand, so they would count twice; ship them or cancel and put them back first."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Allocation, Lot, Reservation
from db.stock.change import Label, StockChange
from db.stock.lots import LotStillPromised, locked_lot, lot_levels, set_status
from db.stock.operation import Caller, OperationContext, run_operation
from db.stock.promising import balance_key, place_of
from domain.allocation import LotStatus
from domain.errors import Conflict, InvalidInput, NotFound
from domain.stock import HoldLot, InsufficientStock, LotHeld, PulledStock

HOLD_STATUSES = (LotStatus.HOLD, LotStatus.QUARANTINE)

_PROMISED = text(
    "SELECT a.id, a.reservation_id FROM allocations a JOIN balances b ON b.id = a.balance_id"
    " WHERE b.lot_id = :lot AND a.tenant_id = :t AND a.quantity > 0"
    " AND a.status IN ('allocated', 'picked') ORDER BY a.id"
)


async def hold_lot(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: HoldLot
) -> LotHeld:
    """Hold an available lot everywhere, pulling it from open allocations. Refused
    (nothing changed) when the lot does not exist (404), is not available (409), or
    when reservations at a warehouse still need its stock (409, naming it)."""

    async def body(ctx: OperationContext) -> LotHeld:
        status = _status(command)
        item = await ctx.catalogue.item(command.sku)
        lot = await locked_lot(ctx, Lot.item_id == item.id, Lot.lot_number == command.lot)
        if lot is None:
            raise NotFound(f"lot {command.lot!r} of {item.sku!r} does not exist", field="lot")
        previous = LotStatus(lot.status)
        if previous is not LotStatus.AVAILABLE:
            raise Conflict(
                f"lot {command.lot!r} is {previous}: only an available lot can be held",
                field="lot",
            )
        change = StockChange(ctx.tenant_id)
        pulled, picked = await _pull_allocations(ctx, lot, change)
        released = await _release_pinned(ctx, lot, item.sku, change)
        levels = await lot_levels(ctx, lot, item.sku, change, held=1)
        set_status(ctx, lot, status)
        lot.status_reason = command.reason.strip()
        result = LotHeld(
            sku=item.sku,
            lot=lot.lot_number,
            status=status.value,
            previous_status=previous.value,
            held={level.warehouse: level.on_hand for level in levels},
            pulled=pulled,
            picked=picked,
            released_reservations=released,
        )
        await ctx.record(result, LotHeld)
        try:
            await change.apply(ctx.session)
        except InsufficientStock as short:
            where = ", ".join(sorted({s.warehouse for s in short.shortages}))
            raise LotStillPromised(
                f"lot {lot.lot_number!r} cannot be held: reservations at {where} still need"
                " its stock (release or allocate them first)",
                field="lot",
            ) from short
        return result

    return await run_operation(sessions, caller, "hold_lot", command, LotHeld, body)


def _status(command: HoldLot) -> LotStatus:
    if not command.reason.strip():
        raise InvalidInput("a reason is required", field="reason")
    if command.status not in {s.value for s in HOLD_STATUSES}:
        raise InvalidInput("status must be hold or quarantine", field="status")
    return LotStatus(command.status)


async def _pull_allocations(
    ctx: OperationContext, lot: Lot, change: StockChange
) -> tuple[list[PulledStock], list[PulledStock]]:
    """Release the lot's allocations not yet picked (their reservations keep what
    they had: the order asks for the quantity again, as after a short pick); list
    the picked ones. Documents lock first: reservations, then allocations, by id."""
    rows = (await ctx.session.execute(_PROMISED, {"lot": lot.id, "t": ctx.tenant_id})).all()
    reservation_ids = sorted({r.reservation_id for r in rows if r.reservation_id is not None})
    if reservation_ids:
        await ctx.session.execute(
            select(Reservation.id)
            .where(Reservation.id.in_(reservation_ids))
            .order_by(Reservation.id)
            .with_for_update()
        )
    allocations = (
        await ctx.session.scalars(
            select(Allocation)
            .where(Allocation.id.in_([r.id for r in rows]))
            .order_by(Allocation.id)
            .with_for_update()
        )
    ).all()
    live = [a for a in allocations if a.quantity > 0 and a.status in ("allocated", "picked")]
    # A lot's held stock is its whole on hand (the books' rule): units picked for an
    # order or allocated to a transfer would then count twice, so the hold waits.
    stuck = [a for a in live if a.status == "picked" or a.reference_type == "transfer"]
    if stuck:
        what = ", ".join(
            f"{a.quantity} {'picked for' if a.status == 'picked' else 'allocated to'}"
            f" {a.reference_type} {a.reference_id}"
            for a in stuck
        )
        raise LotStillPromised(
            f"lot {lot.lot_number!r} cannot be held yet: {what} (units in base units); ship"
            " them, or cancel and put them back, then hold it",
            field="lot",
        )
    pulled: list[PulledStock] = []
    picked: list[PulledStock] = []
    for a in live:
        place = await place_of(ctx, a.balance_id)
        one = PulledStock(
            allocation_id=a.id,
            warehouse=place.warehouse,
            quantity=a.quantity,
            reference_type=a.reference_type,
            reference_id=a.reference_id,
        )
        label = Label(0, place.sku, place.warehouse, place.location, place.lot)
        change.allocate(await balance_key(ctx, a), -a.quantity, label)
        a.quantity, a.status = 0, "released"
        pulled.append(one)
    return pulled, picked


async def _release_pinned(
    ctx: OperationContext, lot: Lot, sku: str, change: StockChange
) -> list[int]:
    """Release what is still reserved for this lot (reservations pinned to it)."""
    reservations = (
        await ctx.session.scalars(
            select(Reservation)
            .where(Reservation.lot_id == lot.id, Reservation.quantity > 0)
            .order_by(Reservation.id)
            .with_for_update()
        )
    ).all()
    for r in reservations:
        warehouse = await ctx.catalogue.warehouse_code(r.warehouse_id)
        change.reserve(r.warehouse_id, r.item_id, lot.id, -r.quantity, Label(0, sku, warehouse))
        r.quantity, r.status = 0, "released"
    return [r.id for r in reservations]
