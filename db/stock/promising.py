"""Promising stock: reserve (soft, warehouse level), release, allocate (hard:
location and lot chosen by the item's strategy, db/stock/allocating.py),
deallocate. Each is one server-side call in the common case (db/stock/calls.py),
the reference implementation deciding every other."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Allocation, Item, Reservation
from db.stock import calls
from db.stock.allocating import reference_allocate
from db.stock.availability import refuse_expired_promises
from db.stock.change import BalanceKey, Label, Place, StockChange
from db.stock.operation import Caller, Operation, OperationContext, run_operation, run_operations
from db.stock.reservations import locked_reservation, portion, reservation_record
from domain.allocation import LotStatus, lot_status_on
from domain.errors import InvalidInput, NotFound
from domain.stock import (
    AllocateReservation,
    AllocationRecord,
    AllocationResult,
    Deallocate,
    DueReservation,
    InvalidTransition,
    ReleaseReservation,
    ReservationRecord,
    ReservationsResult,
    ReserveStock,
)

_RESERVE = (
    "SELECT oms_reserve(%s, %s, %s, %s::text[], %s::text[], %s::bigint[], %s, %s,"
    " %s::timestamptz, %s::date)"
)
_RELEASE = "SELECT oms_release(%s, %s, %s, %s, %s::bigint, %s)"
_ALLOCATE = "SELECT oms_allocate(%s, %s, %s, %s, %s::bigint, %s::text, %s::text)"
_DEALLOCATE = "SELECT oms_deallocate(%s, %s, %s, %s, %s::bigint)"


async def reserve(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: ReserveStock
) -> ReservationsResult:
    """Reserve every line or nothing; a shortage names every short line. Lines
    without a lot go to one server-side call (db/stock/calls.py) first."""
    if not function_reserves(command):
        return await reference_reserve(sessions, caller, command)
    lines = command.lines
    return await calls.call(
        sessions,
        caller,
        "reserve",
        command,
        ReservationsResult,
        _RESERVE,
        lambda digest: (
            caller.tenant_id,
            caller.idempotency_key,
            digest,
            [line.warehouse for line in lines],
            [line.sku for line in lines],
            [line.quantity for line in lines],
            command.source_type,
            command.source_id,
            command.expires_at,
            datetime.now(UTC).date(),
        ),
        lambda: reference_reserve(sessions, caller, command),
    )


def function_reserves(command: ReserveStock) -> bool:
    """Whether `oms_reserve` may serve the command: lines, a source type, no lot.
    The reference serves the rest."""
    lines = command.lines
    return bool(lines) and bool(command.source_type.strip()) and not any(x.lot for x in lines)


async def reference_reserve(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: ReserveStock
) -> ReservationsResult:
    """The reference: every case, every refusal worded."""
    (result,) = await run_operations(sessions, [reserve_operation(caller, command)])
    return result


def reserve_operation(caller: Caller, command: ReserveStock) -> Operation[ReservationsResult]:
    """Reserve every line or nothing: InsufficientStock names every short line."""

    async def body(ctx: OperationContext) -> ReservationsResult:
        if not command.lines:
            raise InvalidInput("at least one line is required", field="lines")
        if not command.source_type.strip():
            raise InvalidInput("source_type is required", field="source_type")
        cat = ctx.catalogue
        change = StockChange(ctx.tenant_id)
        today = datetime.now(UTC).date()
        records = []
        for n, line in enumerate(command.lines):
            field = f"lines.{n}"
            if line.quantity <= 0:
                raise InvalidInput("quantity must be positive", field=f"{field}.quantity")
            warehouse = await cat.warehouse(line.warehouse, f"{field}.warehouse")
            item = await cat.item(line.sku, f"{field}.sku")
            lot = await cat.lot(item, line.lot, f"{field}.lot") if line.lot else None
            if lot is not None:
                status = lot_status_on(LotStatus(lot.status), lot.expires_on, today)
                if status is not LotStatus.AVAILABLE:
                    raise InvalidInput(f"lot {lot.lot_number!r} is {status}", field=f"{field}.lot")
            reservation = Reservation(
                tenant_id=ctx.tenant_id,
                warehouse_id=warehouse.id,
                item_id=item.id,
                lot_id=lot.id if lot else None,
                requested=line.quantity,
                quantity=line.quantity,
                status="active",
                source_type=command.source_type,
                source_id=command.source_id,
                expires_at=command.expires_at,
            )
            ctx.session.add(reservation)
            await ctx.session.flush()
            label = Label(n, item.sku, warehouse.code, None, line.lot)
            change.reserve(warehouse.id, item.id, lot.id if lot else None, line.quantity, label)
            records.append(
                ReservationRecord(
                    reservation.id,
                    warehouse.code,
                    item.sku,
                    line.lot,
                    line.quantity,
                    line.quantity,
                    "active",
                )
            )
        result = ReservationsResult(records)
        await ctx.record(result, ReservationsResult)
        await change.apply(ctx.session)
        await refuse_expired_promises(ctx.session, change, today)
        return result

    return Operation(
        caller=caller, name="reserve", command=command, result_type=ReservationsResult, body=body
    )


async def release(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: ReleaseReservation
) -> ReservationsResult:
    """Release (part of) a reservation: one server-side call, unless it deferred."""
    return await calls.call(
        sessions,
        caller,
        "release",
        command,
        ReservationsResult,
        _RELEASE,
        lambda digest: (
            caller.tenant_id,
            caller.idempotency_key,
            digest,
            command.reservation_id,
            command.quantity,
            command.expired,
        ),
        lambda: reference_release(sessions, caller, command),
    )


async def reference_release(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: ReleaseReservation
) -> ReservationsResult:
    """The reference: every case, every refusal worded."""

    async def body(ctx: OperationContext) -> ReservationsResult:
        r = await locked_reservation(ctx, command.reservation_id)
        item = await ctx.session.get_one(Item, r.item_id)
        quantity = portion(command.quantity, r.quantity, "release", item.sku)
        r.quantity -= quantity
        if r.quantity == 0:
            r.status = "expired" if command.expired else "released"
        label = Label(0, item.sku, await ctx.catalogue.warehouse_code(r.warehouse_id))
        change = StockChange(ctx.tenant_id)
        change.reserve(r.warehouse_id, r.item_id, r.lot_id, -quantity, label)
        result = ReservationsResult([await reservation_record(ctx, r)])
        await ctx.record(result, ReservationsResult)
        await change.apply(ctx.session)
        return result

    return await run_operation(sessions, caller, "release", command, ReservationsResult, body)


async def due_reservations(
    sessions: async_sessionmaker[AsyncSession], now: datetime, limit: int = 500
) -> list[DueReservation]:
    """Open reservations whose expires_at has passed, oldest deadline first."""
    async with sessions() as session:
        rows = await session.execute(
            select(Reservation.tenant_id, Reservation.id)
            .where(Reservation.quantity > 0, Reservation.expires_at <= now)
            .order_by(Reservation.expires_at)
            .limit(limit)
        )
        return [DueReservation(tenant_id, reservation_id) for tenant_id, reservation_id in rows]


# The ledger's actor of an expiry: the schedule that runs it (workflows/schedules.py).
EXPIRY_ACTOR = "schedule:reservation-expiry"


async def expire(
    sessions: async_sessionmaker[AsyncSession], due: DueReservation
) -> ReservationsResult | None:
    """Release what is still reserved of a due reservation, as `expired`. The key is
    the reservation's, so a retry or a second sweeper changes nothing; None when
    there was nothing left (allocated or released meanwhile)."""
    caller = Caller(due.tenant_id, f"expire-reservation-{due.reservation_id}", EXPIRY_ACTOR)
    try:
        return await release(sessions, caller, ReleaseReservation(due.reservation_id, expired=True))
    except InvalidTransition:
        return None


async def allocate(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: AllocateReservation
) -> AllocationResult:
    """Turn reserved quantity into allocations at locations and lots chosen by the
    item's strategy; what cannot be allocated stays reserved (`shortfall`). One
    server-side call, unless it deferred to the reference (db/stock/allocating.py)."""
    return await calls.call(
        sessions,
        caller,
        "allocate",
        command,
        AllocationResult,
        _ALLOCATE,
        lambda digest: (
            caller.tenant_id,
            caller.idempotency_key,
            digest,
            command.reservation_id,
            command.quantity,
            command.reference_type,
            command.reference_id,
        ),
        lambda: reference_allocate(sessions, caller, command),
    )


async def locked_allocation(ctx: OperationContext, allocation_id: int, status: str) -> Allocation:
    """The allocation, locked after its reservation (documents lock in table order)."""
    reservation_id = await ctx.session.scalar(
        select(Allocation.reservation_id).where(
            Allocation.id == allocation_id, Allocation.tenant_id == ctx.tenant_id
        )
    )
    if reservation_id is not None:
        await locked_reservation(ctx, reservation_id)
    allocation = await ctx.session.scalar(
        select(Allocation)
        .where(Allocation.id == allocation_id, Allocation.tenant_id == ctx.tenant_id)
        .with_for_update()
    )
    if allocation is None:
        raise NotFound(f"allocation {allocation_id} does not exist", field="allocation_id")
    if allocation.status != status or allocation.quantity == 0:
        raise InvalidTransition(
            f"allocation {allocation_id} is {allocation.status}"
            + (" with nothing open" if allocation.quantity == 0 else "")
            + f"; this needs it {status}"
        )
    return allocation


_PLACE = text(
    """
    SELECT b.warehouse_id, b.item_id, b.lot_id, b.location_id, b.serial_id,
           w.code AS warehouse, loc.code AS location, i.sku, l.lot_number, s.serial_number
    FROM balances b
    JOIN warehouses w ON w.id = b.warehouse_id
    JOIN locations loc ON loc.id = b.location_id
    JOIN items i ON i.id = b.item_id
    LEFT JOIN lots l ON l.id = b.lot_id
    LEFT JOIN serials s ON s.id = b.serial_id
    WHERE b.id = :id AND b.tenant_id = :t
    """
)


async def place_of(ctx: OperationContext, balance_id: int) -> Place:
    """The balance's place: one query, remembered for the rest of the operation."""
    place = ctx.places.get(balance_id)
    if place is None:
        row = (await ctx.session.execute(_PLACE, {"id": balance_id, "t": ctx.tenant_id})).one()
        key = BalanceKey(
            row.warehouse_id, row.item_id, row.lot_id or 0, row.location_id, row.serial_id or 0
        )
        place = Place(key, row.warehouse, row.location, row.sku, row.lot_number, row.serial_number)
        ctx.places[balance_id] = place
    return place


async def balance_key(ctx: OperationContext, allocation: Allocation) -> BalanceKey:
    return (await place_of(ctx, allocation.balance_id)).key


async def allocation_record(
    ctx: OperationContext, a: Allocation, quantity: int
) -> AllocationRecord:
    place = await place_of(ctx, a.balance_id)
    return AllocationRecord(
        a.id,
        a.reservation_id,
        place.warehouse,
        place.location,
        place.sku,
        place.lot,
        place.serial,
        quantity,
        a.status,
    )


async def deallocate(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: Deallocate
) -> AllocationResult:
    """Give allocated (not yet picked) stock back to its reservation (or free it,
    when that reservation was released meanwhile): one server-side call, unless it
    deferred."""
    return await calls.call(
        sessions,
        caller,
        "deallocate",
        command,
        AllocationResult,
        _DEALLOCATE,
        lambda digest: (
            caller.tenant_id,
            caller.idempotency_key,
            digest,
            command.allocation_id,
            command.quantity,
        ),
        lambda: reference_deallocate(sessions, caller, command),
    )


async def reference_deallocate(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: Deallocate
) -> AllocationResult:
    """The reference: every case, every refusal worded."""

    async def body(ctx: OperationContext) -> AllocationResult:
        a = await locked_allocation(ctx, command.allocation_id, "allocated")
        item = await ctx.session.get_one(Item, a.item_id)
        quantity = portion(command.quantity, a.quantity, "deallocate", item.sku)
        key = await balance_key(ctx, a)
        record = await allocation_record(ctx, a, quantity)
        label = Label(0, record.sku, record.warehouse, record.location, record.lot)
        change = StockChange(ctx.tenant_id)
        change.allocate(key, -quantity, label)
        a.quantity -= quantity
        if a.quantity == 0:
            a.status = "released"
        reservation = None
        if a.reservation_id is not None:
            r = await ctx.session.get_one(Reservation, a.reservation_id)
            if r.status in ("active", "allocated"):
                # Back to the reservation it came from; a released or expired
                # reservation takes nothing back: the stock becomes free.
                r.quantity += quantity
                r.status = "active"
                change.reserve(r.warehouse_id, r.item_id, r.lot_id, quantity, label)
            reservation = await reservation_record(ctx, r)
        result = AllocationResult(reservation, [await allocation_record(ctx, a, a.quantity)])
        await ctx.record(result, AllocationResult)
        await change.apply(ctx.session)
        return result

    return await run_operation(sessions, caller, "deallocate", command, AllocationResult, body)
