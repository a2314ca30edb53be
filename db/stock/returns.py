"""Returned goods arrive: one transaction books every line of a return receipt.

* restock: into stock at the receiving location (ledger `return_restock`); for an
  item that requires inspection, into a quarantine lot (`RMA-7-Q`, `L1/RMA-7-Q`) that
  allocation never takes until it is released;
* repair: held aside in a lot on hold (`RMA-7-R`), visible, never allocated;
* dispose: received and scrapped at once (`return_restock` in, `scrap` out, with the
  reason), so the ledger shows the goods came back and were destroyed.

The return's lines (received, accepted, disposition) are written in the same
transaction, so a retried receipt replays instead of booking twice."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Item, Lot
from db.stock.change import BalanceKey, Label, StockChange
from db.stock.on_hand import refuse_serials_in_stock
from db.stock.operation import Caller, OperationContext, run_operation
from domain.allocation import LotStatus
from domain.errors import Conflict, InvalidInput
from domain.returns import Disposition, held_lot_name
from domain.stock import MovementRecord, MovementType, ReceiveReturn, ReturnReceived


async def receive_return(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: ReceiveReturn
) -> ReturnReceived:
    async def body(ctx: OperationContext) -> ReturnReceived:
        cat = ctx.catalogue
        warehouse = await cat.warehouse(command.warehouse)
        location = await cat.location(warehouse, command.location)
        change = StockChange(ctx.tenant_id)
        records: list[MovementRecord] = []
        lots: dict[str, str | None] = {}
        reference = command.rma_number
        for n, line in enumerate(command.lines):
            field = f"lines.{n}"
            item = await cat.item(line.sku, f"{field}.line_id")
            await ctx.session.execute(
                text(
                    "UPDATE return_lines SET received = :r, accepted = :a, disposition = :d"
                    " WHERE return_id = :id AND line_id = :line"
                ),
                {
                    "r": line.received,
                    "a": line.accepted,
                    "d": line.disposition,
                    "id": command.tenant_return_id,
                    "line": line.line_id,
                },
            )
            if line.accepted == 0:
                if line.serials:
                    raise InvalidInput("serials only for accepted units", field=f"{field}.serials")
                continue
            lot = await _lot_for(
                ctx,
                item,
                line.lot,
                Disposition(line.disposition),
                command.rma_number,
                command.tenant_return_id,
                f"{field}.lot",
            )
            lots[line.line_id] = lot.lot_number if lot else None
            serials = await cat.serials(
                item, line.serials, line.accepted, f"{field}.serials", create=True
            )
            await refuse_serials_in_stock(ctx.session, serials, f"{field}.serials")
            label = Label(n, item.sku, warehouse.code, location.code, line.lot)
            units = [(s, 1) for s in serials] if serials else [(None, line.accepted)]
            for serial, quantity in units:
                key = BalanceKey(
                    warehouse.id,
                    item.id,
                    lot.id if lot else 0,
                    location.id,
                    serial.id if serial else 0,
                )
                records.append(
                    await ctx.book(
                        MovementType.RETURN_RESTOCK,
                        item,
                        quantity,
                        warehouse=warehouse,
                        target=location,
                        lot=lot,
                        serial=serial,
                        reference_type="return",
                        reference_id=reference,
                    )
                )
                if line.disposition == Disposition.DISPOSE:
                    records.append(
                        await ctx.book(
                            MovementType.SCRAP,
                            item,
                            quantity,
                            warehouse=warehouse,
                            source=location,
                            lot=lot,
                            serial=serial,
                            reference_type="return",
                            reference_id=reference,
                            reason=f"return {reference}: disposed on arrival",
                        )
                    )
                else:
                    change.on_hand(key, quantity, label)
        result = ReturnReceived(records, lots)
        await ctx.record(result, ReturnReceived)
        await change.apply(ctx.session)
        return result

    return await run_operation(sessions, caller, "receive_return", command, ReturnReceived, body)


async def _lot_for(
    ctx: OperationContext,
    item: Item,
    number: str | None,
    disposition: Disposition,
    rma: str,
    return_id: int,
    field: str,
) -> Lot | None:
    """The lot returned units go into: their own lot when sellable at once; a lot of
    their own, on quarantine or hold, when they must wait."""
    original = await ctx.catalogue.lot(item, number, field)  # lot-tracked: must exist
    if disposition == Disposition.RESTOCK and not item.requires_inspection:
        return original
    if disposition == Disposition.DISPOSE:
        return original
    status = LotStatus.HOLD if disposition == Disposition.REPAIR else LotStatus.QUARANTINE
    held = held_lot_name(rma, number, disposition)
    if len(held) > 64:  # a lot number's limit: name it by the return's id instead
        held = held_lot_name(f"RMA#{return_id}", None, disposition)
    await ctx.session.execute(
        text(
            "INSERT INTO lots (tenant_id, item_id, lot_number, manufactured_on, expires_on,"
            " received_at, status) VALUES (:t, :i, :n, :m, :e, now(), :s)"
            " ON CONFLICT (item_id, lot_number) DO NOTHING"
        ),
        {
            "t": ctx.tenant_id,
            "i": item.id,
            "n": held,
            "s": status.value,
            "m": original.manufactured_on if original else None,
            "e": original.expires_on if original else None,
        },
    )
    lot = await ctx.session.scalar(
        select(Lot).where(Lot.item_id == item.id, Lot.lot_number == held)
    )
    if lot is None or lot.status != status.value:  # a lot of that name exists already
        raise Conflict(f"lot {held!r} of {item.sku!r} exists and is not {status}", field=field)
    return lot
