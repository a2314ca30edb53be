"""What a warehouse can promise of an item now: its level, with the free stock of
lots past their expiry date that the lot-expiry schedule has not marked yet counted
as held (domain/allocation.py `expired_unmarked`). Reads, the order's reservation
plan and the reservation itself ask here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.stock.candidates import candidates, free_stock
from db.stock.change import StockChange, shortage
from domain.allocation import available_to_promise, expired_unmarked
from domain.stock import InsufficientStock


@dataclass(frozen=True, kw_only=True)
class LevelStock:
    on_hand: int
    reserved: int
    allocated: int
    held: int  # with the free stock of expired lots not marked yet

    @property
    def available(self) -> int:
        return available_to_promise(
            on_hand=self.on_hand, reserved=self.reserved, allocated=self.allocated, held=self.held
        )


# A candidate filter only: domain/allocation.py `lot_status_on` decides (same date rule).
_ANY_DUE = text(
    "SELECT EXISTS (SELECT 1 FROM lots WHERE item_id = ANY(:i)"
    " AND status = 'available' AND expires_on <= :today)"
)


async def expired_unmarked_stock(
    session: AsyncSession, pairs: Iterable[tuple[int, int]], today: date
) -> dict[tuple[int, int], int]:
    """By (warehouse_id, item_id): free stock in lots past expiry still marked available.
    Most items have no such lot: one probe by item (an index) spares reading their
    free stock, in the reservation's transaction as in reads."""
    pairs = set(pairs)
    items = sorted({item for _, item in pairs})
    if not items or not await session.scalar(_ANY_DUE, {"i": items, "today": today}):
        return dict.fromkeys(pairs, 0)
    stock = await free_stock(session, pairs)
    return {pair: expired_unmarked(candidates(free), today) for pair, free in stock.items()}


_LEVEL = text(
    "SELECT on_hand, reserved, allocated, held FROM stock_levels"
    " WHERE warehouse_id = :w AND item_id = :i"
)


async def refuse_expired_promises(session: AsyncSession, change: StockChange, today: date) -> None:
    """After a reservation's change is applied (its levels locked): the levels' guard
    does not know of expired lots the schedule has not marked yet; refuse a
    reservation that only their stock would cover."""
    pairs = [pair for pair, delta in change.levels.items() if delta.reserved > 0]
    expired = await expired_unmarked_stock(session, pairs, today)
    shortages = []
    for pair in sorted(pairs):
        if not expired[pair]:
            continue
        row = (await session.execute(_LEVEL, {"w": pair[0], "i": pair[1]})).one()
        after = LevelStock(
            on_hand=row.on_hand,
            reserved=row.reserved,
            allocated=row.allocated,
            held=row.held + expired[pair],
        )
        over = after.reserved + after.allocated + after.held - after.on_hand
        if over > 0:
            delta = change.levels[pair]
            shortages.append(shortage(delta.label, delta.requested, max(0, delta.reserved - over)))
    if shortages:
        raise InsufficientStock(shortages)
