"""Stock in, out and around: receive, adjust (and scrap), move, cycle count."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Item, Location, Lot, Serial, Warehouse
from db.stock import calls
from db.stock.change import BalanceKey, Label, StockChange, lock_levels
from db.stock.operation import Caller, OperationContext, run_operation
from domain.errors import Conflict, InvalidInput
from domain.quantities import positive
from domain.stock import (
    AdjustStock,
    CycleCount,
    MovementRecord,
    MovementsResult,
    MovementType,
    MoveStock,
    ReceiveStock,
)


def _key(
    warehouse: Warehouse, item: Item, location: Location, lot: Lot | None, serial: Serial | None
) -> BalanceKey:
    return BalanceKey(
        warehouse.id, item.id, lot.id if lot else 0, location.id, serial.id if serial else 0
    )


_RECEIVE = "SELECT oms_receive(%s, %s, %s, %s, %s, %s::text[], %s::bigint[], %s, %s, %s, %s)"


async def receive(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: ReceiveStock
) -> MovementsResult:
    """Stock arrives at a location (a receipt, or a return restocked). Lines
    without a lot, an expiry or serials go to one server-side call
    (db/stock/calls.py, migration 0019) first."""
    lines = command.lines
    if not lines or any(
        x.lot is not None or x.expires_on or x.manufactured_on or x.serials for x in lines
    ):
        return await reference_receive(sessions, caller, command)
    return await calls.call(
        sessions,
        caller,
        "receive",
        command,
        MovementsResult,
        _RECEIVE,
        lambda digest: (
            caller.tenant_id,
            caller.idempotency_key,
            digest,
            command.warehouse,
            command.location,
            [line.sku for line in lines],
            [line.quantity for line in lines],
            command.movement_type.value,
            command.reference_type,
            command.reference,
            caller.actor,
        ),
        lambda: reference_receive(sessions, caller, command),
    )


async def reference_receive(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: ReceiveStock
) -> MovementsResult:
    """The reference: every case, every refusal worded."""

    async def body(ctx: OperationContext) -> MovementsResult:
        change = StockChange(ctx.tenant_id)
        result = MovementsResult(await receive_lines(ctx, command, change))
        await ctx.record(result, MovementsResult)
        await change.apply(ctx.session)
        return result

    return await run_operation(sessions, caller, "receive", command, MovementsResult, body)


async def receive_lines(
    ctx: OperationContext, command: ReceiveStock, change: StockChange
) -> list[MovementRecord]:
    """The receipt's ledger rows, its stock arriving in `change` (the caller applies
    it): the receive operation, and a purchase order's receipt in its transaction."""
    if not command.lines:
        raise InvalidInput("a receipt needs at least one line", field="lines")
    cat = ctx.catalogue
    warehouse = await cat.warehouse(command.warehouse)
    location = await cat.location(warehouse, command.location)
    records: list[MovementRecord] = []
    received_serials: set[tuple[str, str]] = set()
    for n, line in enumerate(command.lines):
        field = f"lines.{n}"
        positive(line.quantity, f"{field}.quantity")
        repeated = received_serials & {(line.sku, number) for number in line.serials}
        if repeated:
            raise InvalidInput(
                f"serials received twice: {sorted(n for _, n in repeated)}",
                field=f"{field}.serials",
            )
        received_serials |= {(line.sku, number) for number in line.serials}
        item = await cat.item(line.sku, f"{field}.sku")
        lot = await cat.receive_lot(
            item,
            line.lot,
            expires_on=line.expires_on,
            manufactured_on=line.manufactured_on,
            field=f"{field}.lot",
            expiry_field=f"{field}.expires_at",
        )
        serials = await cat.serials(
            item, line.serials, line.quantity, f"{field}.serials", create=True
        )
        await refuse_serials_in_stock(ctx.session, serials, f"{field}.serials")
        label = Label(n, item.sku, warehouse.code, location.code, line.lot)
        for serial, quantity in _units(serials, line.quantity):
            change.on_hand(_key(warehouse, item, location, lot, serial), quantity, label)
            record = await ctx.book(
                command.movement_type,
                item,
                quantity,
                warehouse=warehouse,
                target=location,
                lot=lot,
                serial=serial,
                reference_type=command.reference_type,
                reference_id=command.reference,
            )
            records.append(record)
    return records


def _units(serials: list[Serial], quantity: int) -> list[tuple[Serial | None, int]]:
    """Serial-tracked stock moves one balance (and ledger row) per serial."""
    if serials:
        return [(serial, 1) for serial in serials]
    return [(None, quantity)]


async def refuse_serials_in_stock(session: AsyncSession, serials: list[Serial], field: str) -> None:
    if not serials:
        return
    in_stock = await session.scalars(
        text(
            "SELECT s.serial_number FROM balances b JOIN serials s ON s.id = b.serial_id "
            "WHERE b.serial_id = ANY(:ids) AND b.on_hand > 0 ORDER BY 1"
        ),
        {"ids": [s.id for s in serials]},
    )
    found = list(in_stock)
    if found:
        raise Conflict(f"serials already in stock: {found}", field=field)


_ADJUST = "SELECT oms_adjust(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"


async def adjust(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: AdjustStock
) -> MovementsResult:
    """Correct a location's stock up or down, with a reason (also: scrap). Stock
    without a lot or serials goes to one server-side call (migration 0021) first."""
    if command.lot is not None or command.serials or not command.reason.strip():
        return await reference_adjust(sessions, caller, command)
    return await calls.call(
        sessions,
        caller,
        "adjust",
        command,
        MovementsResult,
        _ADJUST,
        lambda digest: (
            caller.tenant_id,
            caller.idempotency_key,
            digest,
            command.warehouse,
            command.location,
            command.sku,
            command.delta,
            command.movement_type.value,
            command.reason,
            caller.actor,
        ),
        lambda: reference_adjust(sessions, caller, command),
    )


async def reference_adjust(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: AdjustStock
) -> MovementsResult:
    """The reference: every case, every refusal worded."""

    async def body(ctx: OperationContext) -> MovementsResult:
        if command.delta == 0:
            raise InvalidInput("delta must not be zero", field="delta")
        if not command.reason.strip():
            raise InvalidInput("a reason is required", field="reason")
        cat = ctx.catalogue
        warehouse = await cat.warehouse(command.warehouse)
        location = await cat.location(warehouse, command.location)
        item = await cat.item(command.sku)
        quantity = abs(command.delta)
        if command.delta > 0:
            lot = await cat.receive_lot(
                item, command.lot, expires_on=None, manufactured_on=None, field="lot"
            )
        else:
            lot = await cat.lot(item, command.lot)
        serials = await cat.serials(
            item, command.serials, quantity, "serials", create=command.delta > 0
        )
        if command.delta > 0:
            await refuse_serials_in_stock(ctx.session, serials, "serials")
        change = StockChange(ctx.tenant_id)
        label = Label(0, item.sku, warehouse.code, location.code, command.lot)
        records = []
        for serial, units in _units(serials, quantity):
            signed = units if command.delta > 0 else -units
            change.on_hand(_key(warehouse, item, location, lot, serial), signed, label)
            source, target = (None, location) if command.delta > 0 else (location, None)
            record = await ctx.book(
                command.movement_type,
                item,
                units,
                warehouse=warehouse,
                source=source,
                target=target,
                lot=lot,
                serial=serial,
                reason=command.reason,
            )
            records.append(record)
        result = MovementsResult(records)
        await ctx.record(result, MovementsResult)
        await change.apply(ctx.session)
        return result

    return await run_operation(sessions, caller, "adjust", command, MovementsResult, body)


_MOVE = "SELECT oms_move(%s, %s, %s, %s, %s, %s, %s, %s, %s)"


async def move(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: MoveStock
) -> MovementsResult:
    """Move free (unallocated) stock between two locations of one warehouse. Stock
    without a lot or serials goes to one server-side call (migration 0020) first."""
    if command.lot is not None or command.serials:
        return await reference_move(sessions, caller, command)
    return await calls.call(
        sessions,
        caller,
        "move",
        command,
        MovementsResult,
        _MOVE,
        lambda digest: (
            caller.tenant_id,
            caller.idempotency_key,
            digest,
            command.warehouse,
            command.from_location,
            command.to_location,
            command.sku,
            command.quantity,
            caller.actor,
        ),
        lambda: reference_move(sessions, caller, command),
    )


async def reference_move(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: MoveStock
) -> MovementsResult:
    """The reference: every case, every refusal worded."""

    async def body(ctx: OperationContext) -> MovementsResult:
        positive(command.quantity, "quantity")
        if command.from_location == command.to_location:
            raise InvalidInput("from and to are the same location", field="to_location")
        cat = ctx.catalogue
        warehouse = await cat.warehouse(command.warehouse)
        source = await cat.location(warehouse, command.from_location, "from_location")
        target = await cat.location(warehouse, command.to_location, "to_location")
        item = await cat.item(command.sku)
        lot = await cat.lot(item, command.lot)
        serials = await cat.serials(
            item, command.serials, command.quantity, "serials", create=False
        )
        change = StockChange(ctx.tenant_id)
        label = Label(0, item.sku, warehouse.code, source.code, command.lot)
        records = []
        movement_type = MovementType.PUTAWAY if source.type == "dock" else MovementType.MOVE
        for serial, units in _units(serials, command.quantity):
            change.transfer_on_hand(
                _key(warehouse, item, source, lot, serial),
                _key(warehouse, item, target, lot, serial),
                units,
                label,
            )
            record = await ctx.book(
                movement_type,
                item,
                units,
                warehouse=warehouse,
                source=source,
                target=target,
                lot=lot,
                serial=serial,
            )
            records.append(record)
        result = MovementsResult(records)
        await ctx.record(result, MovementsResult)
        await change.apply(ctx.session)
        return result

    return await run_operation(sessions, caller, "move", command, MovementsResult, body)


async def cycle_count(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: CycleCount
) -> MovementsResult:
    """Set a location's counted quantities: one reasoned adjustment per difference."""

    async def body(ctx: OperationContext) -> MovementsResult:
        if not command.counts:
            raise InvalidInput("a count needs at least one line", field="counts")
        if not command.reason.strip():
            raise InvalidInput("a reason is required", field="reason")
        cat = ctx.catalogue
        warehouse = await cat.warehouse(command.warehouse)
        location = await cat.location(warehouse, command.location)
        lines = []
        for n, line in enumerate(command.counts):
            field = f"counts.{n}"
            if line.counted < 0:
                raise InvalidInput("counted must not be negative", field=f"{field}.counted")
            item = await cat.item(line.sku, f"{field}.sku")
            if item.track_serial:
                raise InvalidInput(
                    f"{item.sku!r} is serial-tracked: count it with adjustments per serial",
                    field=f"{field}.sku",
                )
            if line.counted > 0:
                lot = await cat.receive_lot(
                    item, line.lot, expires_on=None, manufactured_on=None, field=f"{field}.lot"
                )
            else:
                lot = await cat.lot(item, line.lot, f"{field}.lot")
            lines.append((n, line, item, lot, _key(warehouse, item, location, lot, None)))
        if len({(key.item_id, key.lot_id) for *_, key in lines}) != len(lines):
            raise InvalidInput("each sku and lot is counted once", field="counts")
        # The counted difference must not race another change: lock first, then read.
        await lock_levels(
            ctx.session, ctx.tenant_id, [(warehouse.id, item.id) for _, _, item, _, _ in lines]
        )
        change = StockChange(ctx.tenant_id)
        records = []
        for n, line, item, lot, key in lines:
            on_hand = await ctx.session.scalar(
                text(
                    "SELECT on_hand FROM balances WHERE location_id = :l AND item_id = :i"
                    " AND coalesce(lot_id, 0) = :lot AND serial_id IS NULL"
                ),
                {"l": location.id, "i": item.id, "lot": key.lot_id},
            )
            delta = line.counted - int(on_hand or 0)
            if delta == 0:
                continue
            change.on_hand(key, delta, Label(n, item.sku, warehouse.code, location.code, line.lot))
            source, target = (None, location) if delta > 0 else (location, None)
            record = await ctx.book(
                MovementType.CYCLE_COUNT,
                item,
                abs(delta),
                warehouse=warehouse,
                source=source,
                target=target,
                lot=lot,
                reason=command.reason,
            )
            records.append(record)
        result = MovementsResult(records)
        await ctx.record(result, MovementsResult)
        await change.apply(ctx.session)
        return result

    return await run_operation(sessions, caller, "cycle_count", command, MovementsResult, body)
