"""Lot status: held stock (lots on hold or in quarantine) released for sale."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Lot
from db.stock.change import Label, StockChange
from db.stock.operation import Caller, OperationContext, run_operation
from domain.allocation import LotStatus
from domain.errors import Conflict, InvalidInput, NotFound
from domain.stock import LotReleased, ReleaseLot

RELEASABLE = (LotStatus.HOLD, LotStatus.QUARANTINE)


async def release_lot(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, command: ReleaseLot
) -> LotReleased:
    """Make a held lot available: its on-hand stock leaves `held` at every warehouse
    in the same transaction as the status changes. The lot row is locked first (the
    order every stock change that touches the lot also takes)."""

    async def body(ctx: OperationContext) -> LotReleased:
        if not command.reason.strip():
            raise InvalidInput("a reason is required", field="reason")
        item = await ctx.catalogue.item(command.sku)
        lot = await ctx.session.scalar(
            select(Lot)
            .where(Lot.item_id == item.id, Lot.lot_number == command.lot)
            .with_for_update(key_share=True)  # NO KEY UPDATE: movements' FKs don't wait
        )
        if lot is None:
            raise NotFound(f"lot {command.lot!r} of {item.sku!r} does not exist", field="lot")
        previous = LotStatus(lot.status)
        if previous not in RELEASABLE:
            raise Conflict(
                f"lot {command.lot!r} is {previous}: only held or quarantined lots can be released",
                field="lot",
            )
        rows = await ctx.session.execute(
            text(
                "SELECT l.warehouse_id, w.code, l.on_hand FROM lot_levels l"
                " JOIN warehouses w ON w.id = l.warehouse_id"
                " WHERE l.lot_id = :lot AND l.on_hand > 0 ORDER BY l.warehouse_id"
            ),
            {"lot": lot.id},
        )
        change = StockChange(ctx.tenant_id)
        released: dict[str, int] = {}
        for warehouse_id, code, on_hand in rows:
            change.level(
                warehouse_id, item.id, Label(0, item.sku, code, None, lot.lot_number)
            ).held -= on_hand
            released[code] = int(on_hand)
        lot.status = LotStatus.AVAILABLE.value
        result = LotReleased(item.sku, lot.lot_number, previous.value, released)
        await ctx.record(result, LotReleased)
        await change.apply(ctx.session)
        return result

    return await run_operation(sessions, caller, "release_lot", command, LotReleased, body)
