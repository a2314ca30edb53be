"""Stock between warehouses: ship a transfer (source out, in transit) and receive
it at the destination (in, possibly in parts; a discrepancy written off with a
reason). Reserving at the source is `promising.reserve` with source_type
"transfer"; allocating it is `promising.allocate`.

The books of a transfer in flight are its `transfer_stock` rows (shipped, received,
written_off per item and lot). Each operation locks the transfer's row first, so
the operations of one transfer run one after the other; the stock level figures
move with them in the same transaction:

    source in_transit += shipped - received - written_off
    destination incoming += the same

so `in_transit` and `incoming` always equal what the transfers have outstanding
(`reconcile` checks it)."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Item, Transfer
from db.stock.change import BalanceKey, Label, StockChange
from db.stock.operation import Caller, OperationContext, run_operation
from db.stock.promising import allocation_record, balance_key, locked_allocation
from domain.errors import InvalidInput, NotFound
from domain.stock import MovementType
from domain.transfers import (
    InFlight,
    InFlightRecord,
    ReceiveTransfer,
    Settled,
    ShipTransfer,
    TransferBook,
    TransferStockResult,
)

REFERENCE = "transfer"


async def _locked_transfer(ctx: OperationContext, number: str) -> Transfer:
    transfer = await ctx.session.scalar(
        select(Transfer)
        .where(Transfer.tenant_id == ctx.tenant_id, Transfer.transfer_number == number)
        .with_for_update()
    )
    if transfer is None:
        raise NotFound(f"transfer {number} does not exist", field="transfer_number")
    return transfer


_IN_FLIGHT = text(
    """
    SELECT ts.id, i.sku, l.lot_number, ts.shipped, ts.received, ts.written_off
    FROM transfer_stock ts JOIN items i ON i.id = ts.item_id
    LEFT JOIN lots l ON l.id = ts.lot_id
    WHERE ts.transfer_id = :transfer ORDER BY ts.id
    """
)


async def _in_flight(session: AsyncSession, transfer_id: int) -> list[InFlightRecord]:
    rows = await session.execute(_IN_FLIGHT, {"transfer": transfer_id})
    return [
        InFlightRecord(r.sku, r.lot_number, int(r.shipped), int(r.received), int(r.written_off))
        for r in rows
    ]


async def ship_transfer(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: ShipTransfer
) -> TransferStockResult:
    """Allocated stock leaves the source: on_hand and allocated down at its
    balances, in_transit up at the source and incoming up at the destination,
    one `transfer_out` movement per balance, shipped up on the transfer's books."""

    async def body(ctx: OperationContext) -> TransferStockResult:
        if not command.allocation_ids:
            raise InvalidInput("nothing to ship", field="allocation_ids")
        transfer = await _locked_transfer(ctx, command.transfer_number)
        destination = await ctx.catalogue.warehouse_code(transfer.to_warehouse_id)
        change = StockChange(ctx.tenant_id)
        shipped: dict[tuple[int, int], int] = {}
        movements = []
        for allocation_id in sorted(set(command.allocation_ids)):
            a = await locked_allocation(ctx, allocation_id, "allocated")
            if a.warehouse_id != transfer.from_warehouse_id:
                raise InvalidInput(
                    f"allocation {allocation_id} is not at the transfer's source",
                    field="allocation_ids",
                )
            key = await balance_key(ctx, a)
            quantity = a.quantity
            record = await allocation_record(ctx, a, quantity)
            label = Label(0, record.sku, record.warehouse, record.location, record.lot)
            change.allocate(key, -quantity, label)
            change.on_hand(key, -quantity, label)
            change.level(key.warehouse_id, key.item_id, label).in_transit += quantity
            change.level(
                transfer.to_warehouse_id, key.item_id, Label(0, record.sku, destination)
            ).incoming += quantity
            movements.append(
                await ctx.movement(
                    MovementType.TRANSFER_OUT,
                    warehouse_id=a.warehouse_id,
                    item_id=a.item_id,
                    quantity=quantity,
                    from_location_id=key.location_id,
                    lot_id=key.lot_id or None,
                    serial_id=key.serial_id or None,
                    reference_type=REFERENCE,
                    reference_id=transfer.transfer_number,
                )
            )
            a.quantity = 0
            a.status = "shipped"
            if key.serial_id:  # each serial is followed until received or written off
                await ctx.session.execute(
                    text(
                        "INSERT INTO transfer_serials (transfer_id, serial_id, tenant_id, item_id,"
                        " lot_id, status) VALUES (:transfer, :s, :t, :i, NULLIF(:lot, 0),"
                        " 'in_transit')"
                    ),
                    {
                        "transfer": transfer.id,
                        "s": key.serial_id,
                        "t": ctx.tenant_id,
                        "i": key.item_id,
                        "lot": key.lot_id,
                    },
                )
            shipped[(key.item_id, key.lot_id)] = (
                shipped.get((key.item_id, key.lot_id), 0) + quantity
            )
        for (item_id, lot_id), quantity in sorted(shipped.items()):
            await ctx.session.execute(
                text(
                    "INSERT INTO transfer_stock AS ts (tenant_id, transfer_id, item_id, lot_id,"
                    " shipped, received, written_off)"
                    " VALUES (:t, :transfer, :i, NULLIF(:lot, 0), :q, 0, 0)"
                    " ON CONFLICT (transfer_id, item_id, (coalesce(lot_id, 0)))"
                    " DO UPDATE SET shipped = ts.shipped + EXCLUDED.shipped"
                ),
                {
                    "t": ctx.tenant_id,
                    "transfer": transfer.id,
                    "i": item_id,
                    "lot": lot_id,
                    "q": quantity,
                },
            )
        await ctx.session.flush()
        result = TransferStockResult(await _in_flight(ctx.session, transfer.id), movements)
        await ctx.record(result, TransferStockResult)
        await change.apply(ctx.session)
        return result

    return await run_operation(
        sessions, caller, "ship_transfer", command, TransferStockResult, body
    )


async def receive_transfer(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: ReceiveTransfer
) -> TransferStockResult:
    """Shipped stock arrives at a destination location (`transfer_in`). A line with
    a reason closes its SKU and lot: what is still outstanding is written off as a
    reasoned `adjust` movement (no balance changes: the goods left the source when
    they shipped). Either way in_transit and incoming go down by what is settled.
    More than outstanding, or an unknown SKU or lot, refuses the whole receipt."""

    async def body(ctx: OperationContext) -> TransferStockResult:
        transfer = await _locked_transfer(ctx, command.transfer_number)
        cat = ctx.catalogue
        destination = await cat.warehouse(
            await cat.warehouse_code(transfer.to_warehouse_id), active_only=False
        )
        location = await cat.location(destination, command.location)
        before = await _in_flight(ctx.session, transfer.id)
        book = TransferBook(
            [InFlight(r.sku, r.lot, r.shipped, r.received, r.written_off) for r in before]
        )
        settled = book.check_receipt(command.lines)
        change = StockChange(ctx.tenant_id)
        movements = []
        for n, s in enumerate(settled):
            item = await cat.item(s.sku, f"lines.{n}.sku")
            lot = await cat.lot(item, s.lot, f"lines.{n}.lot")
            lot_id = lot.id if lot else 0
            label = Label(n, item.sku, destination.code, location.code, s.lot)
            serials = await _arriving_serials(ctx, transfer.id, item, lot_id, s, n)
            if s.received:
                for serial_id, quantity in serials or [(0, s.received)]:
                    key = BalanceKey(destination.id, item.id, lot_id, location.id, serial_id)
                    change.on_hand(key, quantity, label)
                    movements.append(
                        await ctx.movement(
                            MovementType.TRANSFER_IN,
                            warehouse_id=destination.id,
                            item_id=item.id,
                            quantity=quantity,
                            to_location_id=location.id,
                            lot_id=lot_id or None,
                            serial_id=serial_id or None,
                            reference_type=REFERENCE,
                            reference_id=transfer.transfer_number,
                        )
                    )
            if s.written_off:
                # A ledger row needs a place; in and out of the receiving location
                # nets to nothing there: the record of the loss, with its reason.
                record = await ctx.book(
                    MovementType.ADJUST,
                    item,
                    s.written_off,
                    warehouse=destination,
                    source=location,
                    target=location,
                    lot=lot,
                    reference_type=REFERENCE,
                    reference_id=transfer.transfer_number,
                    reason=f"transfer discrepancy: {s.reason}",
                )
                movements.append(record.id)
            if s.written_off and item.track_serial:  # the serials that did not come
                await ctx.session.execute(
                    text(
                        "UPDATE transfer_serials SET status = 'written_off' WHERE transfer_id = :t"
                        " AND item_id = :i AND coalesce(lot_id, 0) = :lot"
                        " AND status = 'in_transit'"
                    ),
                    {"t": transfer.id, "i": item.id, "lot": lot_id},
                )
            settled_quantity = s.received + s.written_off
            source_code = await cat.warehouse_code(transfer.from_warehouse_id)
            change.level(
                transfer.from_warehouse_id, item.id, Label(n, item.sku, source_code)
            ).in_transit -= settled_quantity
            change.level(destination.id, item.id, label).incoming -= settled_quantity
            await ctx.session.execute(
                text(
                    "UPDATE transfer_stock SET received = received + :r,"
                    " written_off = written_off + :w"
                    " WHERE transfer_id = :transfer AND item_id = :i AND coalesce(lot_id, 0) = :lot"
                ),
                {
                    "r": s.received,
                    "w": s.written_off,
                    "transfer": transfer.id,
                    "i": item.id,
                    "lot": lot_id,
                },
            )
        result = TransferStockResult(await _in_flight(ctx.session, transfer.id), movements)
        await ctx.record(result, TransferStockResult)
        await change.apply(ctx.session)
        return result

    return await run_operation(
        sessions, caller, "receive_transfer", command, TransferStockResult, body
    )


async def _arriving_serials(
    ctx: OperationContext, transfer_id: int, item: Item, lot_id: int, s: Settled, n: int
) -> list[tuple[int, int]]:
    """(serial id, 1) for each serial a receipt line names: exactly as many as
    received, each one this transfer has in transit (marked received here)."""
    field = f"lines.{n}.serials"
    if not item.track_serial:
        if s.serials:
            raise InvalidInput(f"{item.sku!r} is not serial-tracked", field=field)
        return []
    rows = await ctx.catalogue.serials(item, s.serials, s.received, field, create=False)
    marked = await ctx.session.execute(
        text(
            "UPDATE transfer_serials SET status = 'received' WHERE transfer_id = :t"
            " AND serial_id = ANY(:ids) AND coalesce(lot_id, 0) = :lot"
            " AND status = 'in_transit' RETURNING serial_id"
        ),
        {"t": transfer_id, "ids": [r.id for r in rows], "lot": lot_id},
    )
    arrived = {row[0] for row in marked}
    missing = sorted(r.serial_number for r in rows if r.id not in arrived)
    if missing:
        raise InvalidInput(f"serials not in transit on this transfer: {missing}", field=field)
    return [(r.id, 1) for r in rows]
