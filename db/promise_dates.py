"""Promise dates read from the database: the waiting (backordered) lines of a tenant's
items in serving order, the stock free now and the supply on its way, matched by
domain/promise_dates.py. Three queries for any number of items.

Supply on its way: each OPEN purchase order line brings max(ordered - received, 0) at
its `expected_at` to its PO's warehouse; each transfer brings what it shipped and has
not received or written off to its destination, expected when its in-transit alert is
due (shipped time + the transfer's alert delay: a transfer has no date of its own)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.stock.availability import LevelStock, expired_unmarked_stock
from domain.promise_dates import Promise, Supply, SupplyKind, SupplySource, promise_dates
from settings import Settings


@dataclass(frozen=True, kw_only=True)
class WaitingLine:
    """An order line with backordered units (base units), as the projection has it."""

    order_id: int
    order_number: str
    line_id: str
    item_id: int
    sku: str
    customer_id: str
    priority: int
    ordered_at: datetime
    preferred_warehouse: str | None
    backordered: int


@dataclass(frozen=True, kw_only=True)
class PromisedLine:
    line: WaitingLine
    promise: Promise


@dataclass(frozen=True, kw_only=True)
class Incoming:
    """Supply on its way to a warehouse (active or not), as planned."""

    item_id: int
    warehouse_active: bool
    supply: Supply


_LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, kw_only=True)
class PromiseRules:
    """How supply is dated: supply past its date counts at now + `late_grace`; a
    transfer without an alert time is expected `transfer_delay` after it shipped."""

    late_grace: timedelta
    transfer_delay: timedelta


def promise_rules(settings: Settings) -> PromiseRules:
    return PromiseRules(
        late_grace=timedelta(hours=settings.late_supply_grace_hours),
        transfer_delay=timedelta(seconds=settings.transfer_alert_after_seconds),
    )


# Serving order: the backorder wake-up's (db/orders.py `wakeable_backorders`), then
# the line id within an order.
SERVING_ORDER = "o.priority, o.id, l.line_id"

_WAITING = text(
    "SELECT o.id AS order_id, o.order_number, l.line_id, l.item_id, i.sku, o.customer_id,"
    " o.priority, o.created_at AS ordered_at, o.preferred_warehouse, l.backordered"
    " FROM order_lines l JOIN orders o ON o.id = l.order_id JOIN items i ON i.id = l.item_id"
    " WHERE l.tenant_id = :t AND l.backordered > 0 AND l.item_id = ANY(:i)"
    f" ORDER BY {SERVING_ORDER}"
)

_LEVELS = text(
    "SELECT s.warehouse_id, w.code, s.item_id, s.on_hand, s.reserved, s.allocated, s.held"
    " FROM stock_levels s JOIN warehouses w ON w.id = s.warehouse_id"
    " WHERE w.tenant_id = :t AND w.active AND s.item_id = ANY(:i)"
)

_INCOMING = text(
    """
    SELECT 'purchase_order' AS kind, po.po_number AS reference, w.code AS warehouse,
           w.active, pl.item_id, pl.ordered - pl.received AS quantity, pl.expected_at,
           CAST(NULL AS timestamptz) AS shipped_at
    FROM purchase_order_lines pl
    JOIN purchase_orders po ON po.id = pl.purchase_order_id
    JOIN warehouses w ON w.id = po.warehouse_id
    WHERE po.tenant_id = :t AND po.status = 'open' AND pl.item_id = ANY(:i)
      AND pl.ordered > pl.received
    UNION ALL
    SELECT 'transfer', t.transfer_number, w.code, w.active, ts.item_id,
           sum(ts.shipped - ts.received - ts.written_off),
           CAST(t.view ->> 'alert_at' AS timestamptz), CAST(t.view ->> 'shipped_at' AS timestamptz)
    FROM transfer_stock ts
    JOIN transfers t ON t.id = ts.transfer_id
    JOIN warehouses w ON w.id = t.to_warehouse_id
    WHERE ts.tenant_id = :t AND ts.item_id = ANY(:i)
    GROUP BY t.id, w.id, ts.item_id
    HAVING sum(ts.shipped - ts.received - ts.written_off) > 0
    """
)


async def waiting_lines(
    session: AsyncSession, tenant_id: int, item_ids: Collection[int]
) -> list[WaitingLine]:
    """Every backordered line of these items, in serving order."""
    rows = await session.execute(_WAITING, {"t": tenant_id, "i": sorted(item_ids)})
    return [WaitingLine(**row._mapping) for row in rows]


async def incoming(
    session: AsyncSession,
    tenant_id: int,
    item_ids: Collection[int],
    rules: PromiseRules,
) -> list[Incoming]:
    """What open POs and transfers in transit bring of these items, by date."""
    result = []
    for row in await session.execute(_INCOMING, {"t": tenant_id, "i": sorted(item_ids)}):
        expected_at = row.expected_at
        if expected_at is None:  # a transfer projected before it had an alert time
            expected_at = (row.shipped_at or _LONG_AGO) + rules.transfer_delay
        source = SupplySource(
            kind=SupplyKind(row.kind), reference=row.reference, warehouse=row.warehouse
        )
        result.append(
            Incoming(
                item_id=row.item_id,
                warehouse_active=row.active,
                supply=Supply(quantity=row.quantity, expected_at=expected_at, source=source),
            )
        )
    return sorted(result, key=lambda i: (i.supply.expected_at, i.supply.source.reference or ""))


async def free_now(
    session: AsyncSession, tenant_id: int, item_ids: Collection[int], now: datetime
) -> list[tuple[int, Supply]]:
    """(item id, stock free now) at each active warehouse: available to promise."""
    rows = (await session.execute(_LEVELS, {"t": tenant_id, "i": sorted(item_ids)})).all()
    expired = await expired_unmarked_stock(
        session, [(r.warehouse_id, r.item_id) for r in rows], now.date()
    )
    result = []
    for r in rows:
        level = LevelStock(
            on_hand=r.on_hand,
            reserved=r.reserved,
            allocated=r.allocated,
            held=r.held + expired[(r.warehouse_id, r.item_id)],
        )
        source = SupplySource(kind=SupplyKind.STOCK, reference=None, warehouse=r.code)
        result.append((r.item_id, Supply(quantity=level.available, expected_at=now, source=source)))
    return result


async def promised_lines(
    session: AsyncSession,
    tenant_id: int,
    item_ids: Collection[int],
    *,
    now: datetime,
    rules: PromiseRules,
) -> list[PromisedLine]:
    """Every waiting line of these items in serving order (by item), with its promise."""
    if not item_ids:
        return []
    lines = await waiting_lines(session, tenant_id, item_ids)
    supply: dict[int, list[Supply]] = {}
    for item_id, free in await free_now(session, tenant_id, item_ids, now):
        supply.setdefault(item_id, []).append(free)
    for coming in await incoming(session, tenant_id, item_ids, rules):
        if coming.warehouse_active:
            supply.setdefault(coming.item_id, []).append(coming.supply)
    by_item: dict[int, list[WaitingLine]] = {}
    for line in lines:
        by_item.setdefault(line.item_id, []).append(line)
    result = []
    for item_id, waiting in by_item.items():
        promises = promise_dates(
            [line.backordered for line in waiting],
            supply.get(item_id, []),
            now=now,
            late_grace=rules.late_grace,
        )
        result += [
            PromisedLine(line=line, promise=promise)
            for line, promise in zip(waiting, promises, strict=True)
        ]
    return result


_ITEMS = text("SELECT id FROM items WHERE tenant_id = :t AND sku = ANY(:skus)")


async def promises_by_line(
    session: AsyncSession,
    tenant_id: int,
    skus: Collection[str],
    *,
    now: datetime,
    rules: PromiseRules,
) -> dict[tuple[str, str], Promise]:
    """The promise of every waiting line of these SKUs by (order number, line id)."""
    if not skus:
        return {}
    item_ids = list(await session.scalars(_ITEMS, {"t": tenant_id, "skus": sorted(skus)}))
    return {
        (p.line.order_number, p.line.line_id): p.promise
        for p in await promised_lines(session, tenant_id, item_ids, now=now, rules=rules)
    }


# (priority, order id, line id): where a page of the backorder list ends.
ServingKey = tuple[int, int, str]

# The backorder list's lines: every line with backordered units, whatever its order's
# overall status (a split order may be partly shipped and partly waiting).
_BACKORDERED = (
    " FROM order_lines l JOIN orders o ON o.id = l.order_id JOIN items i ON i.id = l.item_id"
    " WHERE l.tenant_id = :t AND l.backordered > 0"
)

_PAGE = text(
    "SELECT o.priority, o.id, l.line_id, l.item_id"
    + _BACKORDERED
    + " AND (CAST(:sku AS text) IS NULL OR i.sku = :sku)"
    " AND (CAST(:customer AS text) IS NULL OR o.customer_id = :customer)"
    " AND (CAST(:p AS integer) IS NULL OR (o.priority, o.id, l.line_id) > (:p, :o, :l))"
    f" ORDER BY {SERVING_ORDER} LIMIT :limit"
)

_COUNT = text("SELECT count(*)" + _BACKORDERED)


async def backordered_line_count(session: AsyncSession, tenant_id: int) -> int:
    """How many lines the backorder list holds (unfiltered)."""
    return int(await session.scalar(_COUNT, {"t": tenant_id}) or 0)


def serves_from(promised: PromisedLine, warehouse: str) -> bool:
    """A line the warehouse will serve: promised from its stock or supply, or (while
    nothing covers it) of an order that prefers it."""
    if promised.promise.covered_by is not None:
        return promised.promise.covered_by.warehouse == warehouse
    return promised.line.preferred_warehouse == warehouse


async def backorder_page(
    session: AsyncSession,
    tenant_id: int,
    *,
    sku: str | None,
    warehouse: str | None,
    customer_id: str | None,
    after: ServingKey | None,
    limit: int,
    now: datetime,
    rules: PromiseRules,
) -> tuple[list[PromisedLine], ServingKey | None]:
    """A page of the backorder list in serving order, and where the next starts
    (None: no more). Promises are computed over all waiting lines of the page's items."""
    page: list[PromisedLine] = []
    while True:
        keys = (
            await session.execute(
                _PAGE,
                {
                    "t": tenant_id,
                    "sku": sku,
                    "customer": customer_id,
                    "p": after[0] if after else None,
                    "o": after[1] if after else None,
                    "l": after[2] if after else None,
                    "limit": limit,
                },
            )
        ).all()
        promised = {
            (p.line.order_id, p.line.line_id): p
            for p in await promised_lines(
                session, tenant_id, {k.item_id for k in keys}, now=now, rules=rules
            )
        }
        for key in keys:
            line = promised.get((key.id, key.line_id))  # None: served in between
            after = (key.priority, key.id, key.line_id)
            if line is not None and (warehouse is None or serves_from(line, warehouse)):
                page.append(line)
                if len(page) == limit:
                    return page, after
        if len(keys) < limit:
            return page, None


async def incoming_by_warehouse(
    session: AsyncSession, tenant_id: int, sku: str, rules: PromiseRules
) -> dict[str, list[Supply]]:
    """What is on its way of a SKU to each warehouse, by date."""
    item_ids = list(await session.scalars(_ITEMS, {"t": tenant_id, "skus": [sku]}))
    found: dict[str, list[Supply]] = {}
    for coming in await incoming(session, tenant_id, item_ids, rules):
        found.setdefault(coming.supply.source.warehouse, []).append(coming.supply)
    return found
