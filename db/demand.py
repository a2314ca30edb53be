"""Demand history from the ledger: per SKU x warehouse and UTC day, the quantity
shipped minus the quantity returned to stock (movement types `ship` and
`return_restock`). Days without a movement are absent; domain/forecast.py
`daily_series` fills them with zeros."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.stock import MovementType

# The one place demand is read from the ledger: shipped counts up, returned down.
NET_DEMAND = (
    f"SUM(CASE m.type WHEN '{MovementType.SHIP.value}' THEN m.quantity ELSE -m.quantity END)"
)
DEMAND_MOVEMENTS = (
    f"m.type IN ('{MovementType.SHIP.value}', '{MovementType.RETURN_RESTOCK.value}')"
    " AND m.created_at >= :since AND m.created_at < :until"
)

_DAILY = text(
    f"""
    SELECT m.warehouse_id, m.item_id, CAST(m.created_at AT TIME ZONE 'UTC' AS date) AS day,
           {NET_DEMAND} AS net
    FROM movements m
    WHERE m.tenant_id = :t AND {DEMAND_MOVEMENTS}
      AND (m.warehouse_id, m.item_id) IN (SELECT * FROM unnest(CAST(:w AS bigint[]),
                                                               CAST(:i AS bigint[])))
    GROUP BY 1, 2, 3
    """
)


@dataclass(frozen=True, kw_only=True)
class Window:
    """The history a forecast reads: whole UTC days from `first` to `last` (yesterday:
    today is not over yet)."""

    first: date
    last: date

    @classmethod
    def ending_before(cls, today: date, days: int) -> Window:
        return cls(first=today - timedelta(days=days), last=today - timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def bounds(self) -> dict[str, datetime]:
        """The window as the query's :since and :until."""
        return {
            "since": datetime.combine(self.first, time(), UTC),
            "until": datetime.combine(self.last + timedelta(days=1), time(), UTC),
        }


async def daily_demand(
    session: AsyncSession, tenant_id: int, pairs: Iterable[tuple[int, int]], window: Window
) -> dict[tuple[int, int], dict[date, int]]:
    """By (warehouse_id, item_id): net demand by day within the window."""
    pairs = list(pairs)
    found: dict[tuple[int, int], dict[date, int]] = {pair: {} for pair in pairs}
    if not pairs:
        return found
    rows = await session.execute(
        _DAILY,
        {
            "t": tenant_id,
            "w": [w for w, _ in pairs],
            "i": [i for _, i in pairs],
            **window.bounds(),
        },
    )
    for row in rows:
        found[(row.warehouse_id, row.item_id)][row.day] = int(row.net)
    return found
