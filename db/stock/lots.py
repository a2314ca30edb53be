"""Lot status: held stock (lots on hold or in quarantine) released for sale, and
lots past their expiry date marked expired (their stock leaves `available`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Lot
from db.stock.change import Label, StockChange
from db.stock.operation import Caller, OperationContext, run_operation
from domain.allocation import LotStatus, lot_status_on
from domain.errors import Conflict, InvalidInput, NotFound
from domain.stock import ExpireLot, LotExpired, LotReleased, ReleaseLot

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
        lot = await locked_lot(ctx, Lot.item_id == item.id, Lot.lot_number == command.lot)
        if lot is None:
            raise NotFound(f"lot {command.lot!r} of {item.sku!r} does not exist", field="lot")
        previous = LotStatus(lot.status)
        if previous not in RELEASABLE:
            raise Conflict(
                f"lot {command.lot!r} is {previous}: only held or quarantined lots can be released",
                field="lot",
            )
        change = StockChange(ctx.tenant_id)
        released = {
            level.warehouse: level.on_hand
            for level in await lot_levels(ctx, lot, item.sku, change, held=-1)
        }
        set_status(ctx, lot, LotStatus.AVAILABLE)
        result = LotReleased(item.sku, lot.lot_number, previous.value, released)
        await ctx.record(result, LotReleased)
        await change.apply(ctx.session)
        return result

    return await run_operation(sessions, caller, "release_lot", command, LotReleased, body)


async def locked_lot(ctx: OperationContext, *where: Any) -> Lot | None:
    """The lot row, locked first (the order every stock change touching it takes)."""
    lot: Lot | None = await ctx.session.scalar(
        select(Lot)
        .where(Lot.tenant_id == ctx.tenant_id, *where)
        .with_for_update(key_share=True)  # NO KEY UPDATE: movements' FKs don't wait
    )
    return lot


@dataclass(frozen=True, kw_only=True)
class LotLevel:
    warehouse: str
    on_hand: int
    promised: int  # reserved for this lot or allocated from it


async def lot_levels(
    ctx: OperationContext, lot: Lot, sku: str, change: StockChange, *, held: int
) -> list[LotLevel]:
    """The lot's stock per warehouse; its on hand moves into (held=1) or out of
    (held=-1) each warehouse's `held`."""
    rows = await ctx.session.execute(
        text(
            "SELECT l.warehouse_id, w.code, l.on_hand, l.reserved + l.allocated AS promised"
            " FROM lot_levels l JOIN warehouses w ON w.id = l.warehouse_id"
            " WHERE l.lot_id = :lot AND l.on_hand > 0"
            " ORDER BY l.warehouse_id"
        ),
        {"lot": lot.id},
    )
    levels = []
    for warehouse_id, code, on_hand, promised in rows:
        label = Label(0, sku, code, None, lot.lot_number)
        change.level(warehouse_id, lot.item_id, label).held += held * on_hand
        levels.append(LotLevel(warehouse=code, on_hand=int(on_hand), promised=int(promised)))
    return levels


def set_status(ctx: OperationContext, lot: Lot, status: LotStatus) -> None:
    lot.status = status.value
    lot.status_changed_by = ctx.caller.actor
    lot.status_changed_at = datetime.now(UTC)


class LotStillPromised(Conflict):
    code = "lot-still-promised"


async def due_lots(
    sessions: async_sessionmaker[AsyncSession],
    today: date,
    *,
    after: int,
    limit: int,
    tenant_id: int | None = None,
) -> list[ExpireLot]:
    """Lots still marked available whose expiry date has come, by id after `after`
    (of one tenant, or of all). (A first cut: `expire_lot` decides by `lot_status_on`.)"""
    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT tenant_id, id FROM lots WHERE status = 'available'"
                " AND expires_on IS NOT NULL AND expires_on <= :today AND id > :after"
                " AND (CAST(:t AS bigint) IS NULL OR tenant_id = :t)"
                " ORDER BY id LIMIT :limit"
            ),
            {"today": today, "after": after, "limit": limit, "t": tenant_id},
        )
        return [ExpireLot(tenant_id=tenant_id, lot_id=lot_id) for tenant_id, lot_id in rows]


async def expire_lot(
    sessions: async_sessionmaker[AsyncSession], due: ExpireLot, *, actor: str, today: date
) -> LotExpired | None:
    """Mark a lot past its expiry date expired: its on-hand stock moves into `held`
    at every warehouse in the same transaction. The key is the lot's, so a retry or a
    second sweeper changes nothing. None, and nothing changed, when the lot is not
    due (any more), or while stock of it is still promised (reserved for the lot,
    allocated from it, or reserved at a warehouse where nothing else covers it):
    reads already leave it out of `available`; a later run marks it once the
    promises are kept or released."""
    caller = Caller(due.tenant_id, f"expire-lot-{due.lot_id}", actor)

    async def body(ctx: OperationContext) -> LotExpired:
        lot = await locked_lot(ctx, Lot.id == due.lot_id)
        if lot is None:
            raise NotFound(f"lot {due.lot_id} does not exist", field="lot")
        status = LotStatus(lot.status)
        if (
            status is not LotStatus.AVAILABLE
            or lot_status_on(status, lot.expires_on, today) is not LotStatus.EXPIRED
        ):
            raise Conflict(f"lot {lot.lot_number!r} is {status}, not due to expire", field="lot")
        sku = await ctx.session.scalar(
            text("SELECT sku FROM items WHERE id = :i"), {"i": lot.item_id}
        )
        change = StockChange(ctx.tenant_id)
        levels = await lot_levels(ctx, lot, str(sku), change, held=1)
        if any(level.promised for level in levels):
            raise LotStillPromised(f"lot {lot.lot_number!r} is still promised", field="lot")
        set_status(ctx, lot, LotStatus.EXPIRED)
        result = LotExpired(
            sku=str(sku), lot=lot.lot_number, held={lv.warehouse: lv.on_hand for lv in levels}
        )
        await ctx.record(result, LotExpired)
        await change.apply(ctx.session)  # refused while the warehouse's reservations need it
        return result

    try:
        return await run_operation(sessions, caller, "expire_lot", due, LotExpired, body)
    except (Conflict, NotFound):
        return None
