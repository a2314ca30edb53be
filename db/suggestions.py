"""Reorder suggestions per SKU x warehouse (active items with a stock level): the
level, the item's replenishment fields and its default supplier's terms, what is on
the way by date, the demand history, then domain/replenishment.py's rule."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.demand import Window, daily_demand
from db.stock.availability import LevelStock, expired_unmarked_stock
from domain.forecast import Forecast, daily_series, forecast
from domain.replenishment import Policy, Position, Suggestion, suggest

_LEVELS = text(
    """
    SELECT i.sku, w.code AS warehouse, s.warehouse_id, s.item_id, s.on_hand, s.reserved,
           s.allocated, s.held, s.incoming,
           i.reorder_point, i.safety_stock, i.max_stock, i.purchase_multiple,
           i.lead_time_days, i.default_supplier,
           sup.lead_time_days AS supplier_lead_time, sup.purchase_multiple AS supplier_multiple
    FROM stock_levels s
    JOIN items i ON i.id = s.item_id
    JOIN warehouses w ON w.id = s.warehouse_id
    LEFT JOIN item_suppliers sup ON sup.item_id = i.id AND sup.supplier = i.default_supplier
    WHERE s.tenant_id = :t AND i.active
      AND (CAST(:sku AS text) IS NULL OR i.sku = :sku)
      AND (CAST(:warehouse AS text) IS NULL OR w.code = :warehouse)
      AND (CAST(:after_sku AS text) IS NULL OR (i.sku, w.code) > (:after_sku, :after_wh))
    ORDER BY i.sku, w.code
    LIMIT :limit
    """
)

# What is on the way, by the day it is expected: open purchase-order lines (what
# they still bring) and transfers (outstanding; they carry no date).
_INCOMING = text(
    """
    SELECT po.warehouse_id, l.item_id, CAST(l.expected_at AT TIME ZONE 'UTC' AS date) AS day,
           SUM(GREATEST(l.ordered - l.received, 0)) AS quantity
    FROM purchase_order_lines l JOIN purchase_orders po ON po.id = l.purchase_order_id
    WHERE po.tenant_id = :t AND po.status = 'open' AND (po.warehouse_id, l.item_id) IN (
          SELECT * FROM unnest(CAST(:w AS bigint[]), CAST(:i AS bigint[])))
    GROUP BY 1, 2, 3 HAVING SUM(GREATEST(l.ordered - l.received, 0)) > 0
    UNION ALL
    SELECT t.to_warehouse_id, ts.item_id, NULL,
           SUM(ts.shipped - ts.received - ts.written_off)
    FROM transfer_stock ts JOIN transfers t ON t.id = ts.transfer_id
    WHERE t.tenant_id = :t AND (t.to_warehouse_id, ts.item_id) IN (
          SELECT * FROM unnest(CAST(:w AS bigint[]), CAST(:i AS bigint[])))
    GROUP BY 1, 2 HAVING SUM(ts.shipped - ts.received - ts.written_off) > 0
    ORDER BY 3 NULLS LAST
    """
)


# Backordered demand per warehouse x item: a waiting line counts at the warehouse that
# would serve it first (domain/allocation.warehouse_order: the order's preferred
# warehouse if active, else the first active one by priority, then code).
_BACKORDERED = text(
    """
    WITH first AS (
        SELECT id FROM warehouses WHERE tenant_id = :t AND active ORDER BY priority, code LIMIT 1
    )
    SELECT coalesce(pw.id, (SELECT id FROM first)) AS warehouse_id, l.item_id,
           SUM(l.backordered) AS quantity
    FROM order_lines l JOIN orders o ON o.id = l.order_id
    LEFT JOIN warehouses pw
      ON pw.tenant_id = o.tenant_id AND pw.code = o.preferred_warehouse AND pw.active
    WHERE l.tenant_id = :t AND l.backordered > 0 AND l.item_id = ANY(CAST(:i AS bigint[]))
    GROUP BY 1, 2
    """
)


@dataclass(frozen=True, kw_only=True)
class Arrival:
    expected_on: date | None  # None: a transfer in transit (no date)
    quantity: int


@dataclass(frozen=True, kw_only=True)
class SuggestionRow:
    sku: str
    warehouse: str
    supplier: str | None  # the item's default supplier
    position: Position
    policy: Policy
    incoming_by_date: tuple[Arrival, ...]
    forecast: Forecast
    suggestion: Suggestion


def policy_of(row: Any, default_lead_time_days: int) -> Policy:
    """Lead time: the default supplier's, else the item's, else the default."""
    if row.supplier_lead_time is not None:
        days, source = row.supplier_lead_time, f"supplier {row.default_supplier}"
    elif row.lead_time_days is not None:
        days, source = row.lead_time_days, "the item's lead time"
    else:
        days, source = default_lead_time_days, "the default lead time"
    return Policy(
        lead_time_days=days,
        lead_time_source=source,
        reorder_point=row.reorder_point,
        safety_stock=row.safety_stock,
        max_stock=row.max_stock,
        purchase_multiple=row.supplier_multiple or row.purchase_multiple,
    )


async def _arrivals(
    session: AsyncSession, tenant_id: int, pairs: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], list[Arrival]]:
    found: dict[tuple[int, int], list[Arrival]] = {pair: [] for pair in pairs}
    rows = await session.execute(
        _INCOMING, {"t": tenant_id, "w": [w for w, _ in pairs], "i": [i for _, i in pairs]}
    )
    for row in rows:
        arrival = Arrival(expected_on=row.day, quantity=int(row.quantity))
        found[(row.warehouse_id, row.item_id)].append(arrival)
    return found


async def _backordered(
    session: AsyncSession, tenant_id: int, pairs: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], int]:
    rows = await session.execute(_BACKORDERED, {"t": tenant_id, "i": sorted({i for _, i in pairs})})
    return {(r.warehouse_id, r.item_id): int(r.quantity) for r in rows}


async def suggestion_rows(
    session: AsyncSession,
    tenant_id: int,
    *,
    sku: str | None,
    warehouse: str | None,
    after: tuple[str, str] | None,
    limit: int,
    today: date,
    history_days: int,
    default_lead_time_days: int,
) -> list[SuggestionRow]:
    """Up to `limit` SKU x warehouse rows after `after`, each with its suggestion."""
    levels = (
        await session.execute(
            _LEVELS,
            {
                "t": tenant_id,
                "sku": sku,
                "warehouse": warehouse,
                "after_sku": after[0] if after else None,
                "after_wh": after[1] if after else None,
                "limit": limit,
            },
        )
    ).all()
    pairs = [(row.warehouse_id, row.item_id) for row in levels]
    if not pairs:
        return []
    window = Window.ending_before(today, history_days)
    history = await daily_demand(session, tenant_id, pairs, window)
    arrivals = await _arrivals(session, tenant_id, pairs)
    expired = await expired_unmarked_stock(session, pairs, today)
    waiting = await _backordered(session, tenant_id, pairs)
    result = []
    for row, pair in zip(levels, pairs, strict=True):
        policy = policy_of(row, default_lead_time_days)
        level = LevelStock(
            on_hand=row.on_hand,
            reserved=row.reserved,
            allocated=row.allocated,
            held=row.held + expired[pair],
        )
        position = Position(
            on_hand=row.on_hand,
            available=level.available,
            incoming=row.incoming,
            backordered=waiting.get(pair, 0),
        )
        series = daily_series(history[pair], window.first, window.last)
        predicted = forecast(series, policy.lead_time_days)
        result.append(
            SuggestionRow(
                sku=row.sku,
                warehouse=row.warehouse,
                supplier=row.default_supplier,
                position=position,
                policy=policy,
                incoming_by_date=tuple(arrivals[pair]),
                forecast=predicted,
                suggestion=suggest(position, policy, predicted.daily),
            )
        )
    return result
