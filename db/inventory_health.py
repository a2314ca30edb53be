"""Inventory health: one row per SKU x warehouse with its status, quantities,
thresholds and days of cover, filtered, sorted and paged in one statement, or
streamed whole through a server-side cursor (the CSV export).

Days of cover here is `available / (net demand of the history window / its days)`:
the window's average, computed in the same statement, so a page or a 100,000-row
export costs one aggregate over the ledger instead of a forecast per row (the
suggestions show the forecast's rate). The status rule is domain/replenishment.py
`StockStatus`, written once, here, in SQL so it can be filtered and paged on.
`available` is the level's (on hand - reserved - allocated - held): free stock of a
lot past its expiry counts as held once the lot-expiry schedule marks it, not before
(the balances view and the suggestions count it at once)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.demand import DEMAND_MOVEMENTS, NET_DEMAND, Window
from domain.replenishment import StockStatus

S = StockStatus
_ROWS = f"""
WITH demand AS (
    SELECT m.warehouse_id, m.item_id, {NET_DEMAND} AS net
    FROM movements m
    WHERE m.tenant_id = :t AND {DEMAND_MOVEMENTS}
    GROUP BY 1, 2
), waiting AS (
    SELECT DISTINCT item_id FROM order_lines WHERE tenant_id = :t AND backordered > 0
), levels AS (
    SELECT i.sku, i.name, w.code AS warehouse, i.uom_unit, i.base_units_per_unit,
           s.on_hand, s.reserved, s.allocated, s.held, s.incoming,
           s.on_hand - s.reserved - s.allocated - s.held AS available,
           i.low_stock_threshold, i.reorder_point, i.safety_stock, i.max_stock,
           GREATEST(COALESCE(d.net, 0), 0) / CAST(:days AS float8) AS daily_demand,
           wt.item_id IS NOT NULL AS waiting
    FROM stock_levels s
    JOIN items i ON i.id = s.item_id
    JOIN warehouses w ON w.id = s.warehouse_id
    LEFT JOIN demand d ON d.warehouse_id = s.warehouse_id AND d.item_id = s.item_id
    LEFT JOIN waiting wt ON wt.item_id = s.item_id
    WHERE s.tenant_id = :t
      AND (CAST(:warehouse AS text) IS NULL OR w.code = :warehouse)
      AND (CAST(:q AS text) IS NULL OR i.sku ILIKE :q ESCAPE '\\' OR i.name ILIKE :q ESCAPE '\\')
), health AS (
    SELECT *,
           CASE WHEN waiting AND available <= 0 THEN '{S.BACKORDERED.value}'
                WHEN available <= 0 THEN '{S.OUT_OF_STOCK.value}'
                WHEN available <= low_stock_threshold THEN '{S.LOW_STOCK.value}'
                WHEN max_stock IS NOT NULL AND on_hand > max_stock THEN '{S.OVERSTOCK.value}'
                ELSE '{S.IN_STOCK.value}' END AS status,
           CASE WHEN daily_demand > 0
                THEN round(CAST(GREATEST(available, 0) / daily_demand AS numeric), 1) END
               AS days_of_cover
    FROM levels
)
SELECT *, COALESCE(CAST(days_of_cover AS float8), 'Infinity') AS cover_key FROM health
WHERE (CAST(:status AS text) IS NULL OR status = :status)
"""


class Sort(StrEnum):
    SKU = "sku"
    SKU_DESC = "-sku"
    AVAILABLE = "available"
    AVAILABLE_DESC = "-available"
    DAYS_OF_COVER = "days_of_cover"
    DAYS_OF_COVER_DESC = "-days_of_cover"

    @property
    def descending(self) -> bool:
        return self.value.startswith("-")

    @property
    def key(self) -> str:
        """The column sorted on (no days of cover sorts as infinitely many)."""
        return {"sku": "sku", "available": "available", "days_of_cover": "cover_key"}[
            self.value.lstrip("-")
        ]


_KEY_TYPES = {"sku": "text", "available": "bigint", "cover_key": "float8"}


def _statement(sort: Sort, paged: bool) -> Any:
    order = "DESC" if sort.descending else "ASC"
    sql = f"SELECT * FROM ({_ROWS}) h"
    if paged:
        compare = "<" if sort.descending else ">"
        sql += (
            f" WHERE CAST(:after_sku AS text) IS NULL OR ({sort.key}, sku, warehouse) {compare}"
            f" (CAST(:after_key AS {_KEY_TYPES[sort.key]}), :after_sku, :after_wh)"
        )
    sql += f" ORDER BY {sort.key} {order}, sku {order}, warehouse {order}"
    return text(sql + (" LIMIT :limit" if paged else ""))


@dataclass(frozen=True, kw_only=True)
class HealthFilter:
    q: str | None
    warehouse: str | None
    status: StockStatus | None
    sort: Sort

    def params(self, tenant_id: int, window: Window) -> dict[str, Any]:
        like = None
        if self.q is not None:
            escaped = self.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            like = f"%{escaped}%"
        return {
            "t": tenant_id,
            "q": like,
            "warehouse": self.warehouse,
            "status": self.status.value if self.status else None,
            "days": window.days,
            **window.bounds(),
        }


@dataclass(frozen=True, kw_only=True)
class HealthRow:
    sku: str
    name: str
    warehouse: str
    uom_unit: str
    base_units_per_unit: int
    status: StockStatus
    available: int
    on_hand: int
    reserved: int
    allocated: int
    held: int
    incoming: int
    low_stock_threshold: int
    reorder_point: int
    safety_stock: int
    max_stock: int | None
    daily_demand: float
    days_of_cover: Decimal | None
    cover_key: float

    @classmethod
    def of(cls, row: Any) -> HealthRow:
        values = dict(row._mapping)
        del values["waiting"]
        return cls(**{**values, "status": StockStatus(values["status"])})

    def cursor(self, sort: Sort) -> list[Any]:
        key = {"sku": self.sku, "available": self.available, "cover_key": self.cover_key}
        return [key[sort.key], self.sku, self.warehouse]


async def health_page(
    session: AsyncSession,
    tenant_id: int,
    which: HealthFilter,
    *,
    after: list[Any] | None,
    limit: int,
    today: date,
    history_days: int,
) -> list[HealthRow]:
    params = which.params(tenant_id, Window.ending_before(today, history_days))
    key, sku, wh = after if after else (None, None, None)
    params |= {"after_key": key, "after_sku": sku, "after_wh": wh, "limit": limit}
    rows = await session.execute(_statement(which.sort, paged=True), params)
    return [HealthRow.of(row) for row in rows]


async def stream_health(
    session: AsyncSession,
    tenant_id: int,
    which: HealthFilter,
    *,
    today: date,
    history_days: int,
    batch: int = 1000,
) -> AsyncIterator[list[HealthRow]]:
    """The whole filtered result in batches, read through a server-side cursor: the
    process holds one batch at a time, however many rows match."""
    params = which.params(tenant_id, Window.ending_before(today, history_days))
    result = await session.stream(
        _statement(which.sort, paged=False), params, execution_options={"yield_per": batch}
    )
    async for rows in result.partitions(batch):
        yield [HealthRow.of(row) for row in rows]
