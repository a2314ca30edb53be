"""Stock that allocation could take, read once for allocation, availability and
the backorder sweep: each balance with free stock, as a domain `Candidate` with
the names a caller reports. Which candidates count is decided in domain/allocation.py
(`usable`, `expired_unmarked`, `can_wake_backorders`), never here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.allocation import Candidate, LotStatus

_FREE_STOCK = text(
    """
    SELECT b.id, b.warehouse_id, b.item_id, b.location_id, loc.code AS location, b.lot_id,
           b.serial_id, b.on_hand - b.allocated AS free,
           coalesce(l.received_at, b.received_at) AS received_at,
           coalesce(l.status, 'available') AS lot_status, l.expires_on, l.lot_number,
           (loc.pickable AND loc.active AND loc.type <> 'staging') AS pickable,
           ll.on_hand - ll.reserved - ll.allocated AS lot_free,
           s.serial_number
    FROM balances b
    JOIN locations loc ON loc.id = b.location_id
    LEFT JOIN lots l ON l.id = b.lot_id
    LEFT JOIN lot_levels ll ON ll.warehouse_id = b.warehouse_id AND ll.lot_id = b.lot_id
    LEFT JOIN serials s ON s.id = b.serial_id
    WHERE b.warehouse_id = ANY(:w) AND b.item_id = ANY(:i) AND b.on_hand > b.allocated
      AND (CAST(:lot AS bigint) IS NULL OR b.lot_id = :lot)
    """
)


@dataclass(frozen=True, kw_only=True)
class FreeStock:
    """One balance's free stock: the candidate, and where it is by ids and names."""

    candidate: Candidate
    balance_id: int
    location_id: int
    location: str
    lot_id: int | None
    lot_number: str | None
    serial_id: int | None
    serial_number: str | None
    lot_free: int | None  # the lot's stock nobody reserved or allocated (None: no lot)


async def free_stock(
    session: AsyncSession, pairs: Iterable[tuple[int, int]], *, lot_id: int | None = None
) -> dict[tuple[int, int], list[FreeStock]]:
    """Free stock by (warehouse_id, item_id), for these pairs (and one lot if given)."""
    wanted = set(pairs)
    found: dict[tuple[int, int], list[FreeStock]] = {pair: [] for pair in wanted}
    if not wanted:
        return found
    params = {
        "w": sorted({w for w, _ in wanted}),
        "i": sorted({i for _, i in wanted}),
        "lot": lot_id,
    }
    for row in await session.execute(_FREE_STOCK, params):
        pair = (row.warehouse_id, row.item_id)
        if pair not in wanted:
            continue
        candidate = Candidate(
            balance_key=(row.id,),
            free=int(row.free),
            received_at=row.received_at,
            lot_status=LotStatus(row.lot_status),
            expires_on=row.expires_on,
            pickable=bool(row.pickable),
            lot_key=row.lot_id or 0,
        )
        found[pair].append(
            FreeStock(
                candidate=candidate,
                balance_id=row.id,
                location_id=row.location_id,
                location=row.location,
                lot_id=row.lot_id,
                lot_number=row.lot_number,
                serial_id=row.serial_id,
                serial_number=row.serial_number,
                lot_free=None if row.lot_free is None else int(row.lot_free),
            )
        )
    return found


def candidates(stock: Iterable[FreeStock]) -> list[Candidate]:
    return [s.candidate for s in stock]
