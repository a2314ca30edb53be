"""A SKU's stock over time, read from the ledger: per UTC day, the quantity on hand at
the day's end (every movement into a location adds, every one out of a location
subtracts; a move inside a warehouse does both) and the day's net demand (shipped
minus returned, as the forecast reads it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.demand import DEMAND_MOVEMENTS, NET_DEMAND, Window

# What one movement does to its warehouse's on-hand quantity.
ON_HAND_CHANGE = (
    "CASE WHEN m.to_location_id IS NOT NULL THEN m.quantity ELSE 0 END"
    " - CASE WHEN m.from_location_id IS NOT NULL THEN m.quantity ELSE 0 END"
)

_HISTORY = text(
    f"""
    WITH daily AS (
        SELECT CAST(m.created_at AT TIME ZONE 'UTC' AS date) AS day,
               sum({ON_HAND_CHANGE}) AS change,
               coalesce({NET_DEMAND} FILTER (WHERE {DEMAND_MOVEMENTS}), 0) AS demand
        FROM movements m
        JOIN items i ON i.id = m.item_id
        JOIN warehouses w ON w.id = m.warehouse_id
        WHERE m.tenant_id = :t AND i.sku = :sku
          AND (CAST(:warehouse AS text) IS NULL OR w.code = :warehouse)
          AND m.created_at < :until
        GROUP BY 1
    ), before AS (
        SELECT coalesce(sum(change), 0) AS on_hand FROM daily WHERE day < :first
    )
    SELECT CAST(d.day AS date) AS day,
           before.on_hand + sum(coalesce(daily.change, 0)) OVER (ORDER BY d.day) AS on_hand,
           coalesce(daily.demand, 0) AS demand
    FROM generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 day') AS d(day)
    CROSS JOIN before
    LEFT JOIN daily ON daily.day = CAST(d.day AS date)
    ORDER BY d.day
    """
)


@dataclass(frozen=True, kw_only=True)
class StockDay:
    """One UTC day: on hand at its end and its net demand (base units)."""

    day: date
    on_hand: int
    demand: int


def last_days(today: date, days: int) -> Window:
    """`days` whole UTC days ending with today (today so far)."""
    return Window(first=today - timedelta(days=days - 1), last=today)


async def on_hand_history(
    session: AsyncSession, tenant_id: int, *, sku: str, warehouse: str | None, window: Window
) -> list[StockDay]:
    """Every day of the window, oldest first (all warehouses when `warehouse` is None)."""
    rows = await session.execute(
        _HISTORY,
        {
            "t": tenant_id,
            "sku": sku,
            "warehouse": warehouse,
            "first": window.first,
            "last": window.last,
            **window.bounds(),
        },
    )
    return [StockDay(day=r.day, on_hand=int(r.on_hand), demand=int(r.demand)) for r in rows]
