"""Read models of stock: levels with their balances, availability, the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.stock.availability import expired_unmarked_stock
from domain.allocation import LotStatus, available_to_promise, lot_status_on
from domain.errors import NotFound


@dataclass(frozen=True)
class PlaceRow:
    location: str
    lot: str | None
    serial: str | None
    expires_on: date | None
    on_hand: int
    allocated: int
    lot_status: LotStatus | None = None  # as of today (None: no lot)

    @property
    def available(self) -> int:
        """Free stock here that may be promised (not in a lot held or expired)."""
        sellable = self.lot_status in (None, LotStatus.AVAILABLE)
        return self.on_hand - self.allocated if sellable else 0


@dataclass(frozen=True)
class LevelRow:
    sku: str
    warehouse: str
    on_hand: int
    reserved: int
    allocated: int
    in_transit: int
    incoming: int
    held: int  # with the free stock of expired lots not marked yet
    places: tuple[PlaceRow, ...]

    @property
    def available(self) -> int:
        return available_to_promise(
            on_hand=self.on_hand, reserved=self.reserved, allocated=self.allocated, held=self.held
        )


_LEVELS = text(
    """
    SELECT i.sku, w.code AS warehouse, s.warehouse_id, s.item_id, s.on_hand, s.reserved,
           s.allocated, s.in_transit, s.incoming, s.held
    FROM stock_levels s
    JOIN items i ON i.id = s.item_id
    JOIN warehouses w ON w.id = s.warehouse_id
    WHERE s.tenant_id = :t
      AND (CAST(:sku AS text) IS NULL OR i.sku = :sku)
      AND (CAST(:warehouse AS text) IS NULL OR w.code = :warehouse)
      AND (CAST(:location AS text) IS NULL OR EXISTS (
            SELECT 1 FROM balances b JOIN locations l ON l.id = b.location_id
            WHERE b.warehouse_id = s.warehouse_id AND b.item_id = s.item_id
              AND l.code = :location AND b.on_hand > 0))
      AND (CAST(:after_sku AS text) IS NULL OR (i.sku, w.code) > (:after_sku, :after_wh))
    ORDER BY i.sku, w.code
    LIMIT :limit
    """
)

_PLACES = text(
    """
    SELECT b.warehouse_id, b.item_id, l.code AS location, lot.lot_number, s.serial_number,
           lot.expires_on, lot.status AS lot_status, b.on_hand, b.allocated
    FROM balances b
    JOIN locations l ON l.id = b.location_id
    LEFT JOIN lots lot ON lot.id = b.lot_id
    LEFT JOIN serials s ON s.id = b.serial_id
    WHERE (b.warehouse_id, b.item_id) IN (SELECT * FROM unnest(CAST(:w AS bigint[]),
                                                               CAST(:i AS bigint[])))
      AND b.on_hand > 0 AND (CAST(:location AS text) IS NULL OR l.code = :location)
    ORDER BY l.code, lot.lot_number NULLS FIRST, s.serial_number NULLS FIRST
    """
)


async def stock_levels(
    session: AsyncSession,
    tenant_id: int,
    *,
    sku: str | None,
    warehouse: str | None,
    location: str | None,
    after: tuple[str, str] | None,
    limit: int,
    today: date,
) -> list[LevelRow]:
    levels = (
        await session.execute(
            _LEVELS,
            {
                "t": tenant_id,
                "sku": sku,
                "warehouse": warehouse,
                "location": location,
                "after_sku": after[0] if after else None,
                "after_wh": after[1] if after else None,
                "limit": limit,
            },
        )
    ).all()
    if not levels:
        return []
    pairs = [(row.warehouse_id, row.item_id) for row in levels]
    expired = await expired_unmarked_stock(session, pairs, today)
    places: dict[tuple[int, int], list[PlaceRow]] = {}
    rows = await session.execute(
        _PLACES,
        {
            "w": [row.warehouse_id for row in levels],
            "i": [row.item_id for row in levels],
            "location": location,
        },
    )
    for p in rows:
        place = PlaceRow(
            p.location,
            p.lot_number,
            p.serial_number,
            p.expires_on,
            p.on_hand,
            p.allocated,
            None
            if p.lot_status is None
            else lot_status_on(LotStatus(p.lot_status), p.expires_on, today),
        )
        places.setdefault((p.warehouse_id, p.item_id), []).append(place)
    return [
        LevelRow(
            sku=row.sku,
            warehouse=row.warehouse,
            on_hand=row.on_hand,
            reserved=row.reserved,
            allocated=row.allocated,
            in_transit=row.in_transit,
            incoming=row.incoming,
            held=row.held + expired[(row.warehouse_id, row.item_id)],
            places=tuple(places.get((row.warehouse_id, row.item_id), [])),
        )
        for row in levels
    ]


@dataclass(frozen=True)
class MovementRow:
    id: int
    type: str
    sku: str
    warehouse: str
    quantity: int
    from_location: str | None
    to_location: str | None
    lot: str | None
    serial: str | None
    reference_type: str
    reference_id: str | None
    actor: str
    reason: str | None
    created_at: datetime


_MOVEMENTS = text(
    """
    SELECT m.id, m.type, i.sku, w.code AS warehouse, m.quantity, f.code AS from_location,
           t.code AS to_location, lot.lot_number AS lot, s.serial_number AS serial,
           m.reference_type, m.reference_id, m.actor, m.reason, m.created_at
    FROM movements m
    JOIN items i ON i.id = m.item_id
    JOIN warehouses w ON w.id = m.warehouse_id
    LEFT JOIN locations f ON f.id = m.from_location_id
    LEFT JOIN locations t ON t.id = m.to_location_id
    LEFT JOIN lots lot ON lot.id = m.lot_id
    LEFT JOIN serials s ON s.id = m.serial_id
    WHERE m.tenant_id = :t
      AND (CAST(:sku AS text) IS NULL OR i.sku = :sku)
      AND (CAST(:warehouse AS text) IS NULL OR w.code = :warehouse)
      AND (CAST(:type AS text) IS NULL OR m.type = :type)
      AND (CAST(:reference AS text) IS NULL OR m.reference_id = :reference)
      AND (CAST(:before AS bigint) IS NULL OR m.id < :before)
    ORDER BY m.id DESC
    LIMIT :limit
    """
)


async def movements(
    session: AsyncSession,
    tenant_id: int,
    *,
    sku: str | None,
    warehouse: str | None,
    type: str | None,
    reference: str | None,
    before: int | None,
    limit: int,
) -> list[MovementRow]:
    rows = await session.execute(
        _MOVEMENTS,
        {
            "t": tenant_id,
            "sku": sku,
            "warehouse": warehouse,
            "type": type,
            "reference": reference,
            "before": before,
            "limit": limit,
        },
    )
    return [MovementRow(**row._mapping) for row in rows]


async def reservation_sku(session: AsyncSession, tenant_id: int, reservation_id: int) -> str:
    sku = await session.scalar(
        text(
            "SELECT i.sku FROM reservations r JOIN items i ON i.id = r.item_id"
            " WHERE r.id = :id AND r.tenant_id = :t"
        ),
        {"id": reservation_id, "t": tenant_id},
    )
    if sku is None:
        raise NotFound(f"reservation {reservation_id} does not exist", field="reservation_id")
    return str(sku)
