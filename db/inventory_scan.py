"""The inventory scan's reads and writes: one bounded page of a tenant's stock levels
(or lot levels) at a time, by key; one set-based query per page returns only the
rows where a condition may hold and the rows with an open alert of the scan (to
resolve), never the healthy rest. The conditions and messages are
domain/stock_alerts.py's; alerts are written by db/alerts.py (with their events).

An alert's key is `kind:sku:warehouse` (`kind:sku:warehouse:lot` for lots), built
here in SQL only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.alerts import NewAlert, raise_alert, raise_alerts_in, resolve_alerts, resolve_alerts_in
from db.stock.availability import expired_unmarked_stock
from db.stock.reconcile import find_violations
from domain.allocation import LotStatus, available_to_promise
from domain.quantities import UnitOfMeasure
from domain.stock_alerts import (
    LEVEL_ALERTS,
    LOT_ALERTS,
    Drift,
    LevelFigures,
    LotFigures,
    ScanAlert,
    drift_message,
)


@dataclass(frozen=True, kw_only=True)
class PageCounts:
    raised: int = 0
    resolved: int = 0
    last: tuple[int, int] = (0, 0)  # the page's last key: the next page starts after it
    more: bool = False  # the page was full: look after `last`
    drifts: int = 0  # reconciliation: kinds of drift found


def _page_end(table: str, first: str) -> Any:
    """The last key of the page of `table` after (:a1, :a2) by (`first`, warehouse_id),
    and how many rows the page holds."""
    return text(
        f"""
        SELECT {first} AS k1, warehouse_id AS k2, count(*) OVER () AS n FROM (
            SELECT {first}, warehouse_id FROM {table}
            WHERE tenant_id = :t AND ({first}, warehouse_id) > (:a1, :a2)
            ORDER BY {first}, warehouse_id LIMIT :limit) page
        ORDER BY {first} DESC, warehouse_id DESC LIMIT 1
        """
    )


_LEVEL_PAGE_END = _page_end("stock_levels", "item_id")
_LOT_PAGE_END = _page_end("lot_levels", "lot_id")


@dataclass(frozen=True, kw_only=True)
class _Page:
    rows: list[Any]
    last: tuple[int, int]
    full: bool


async def _read_page(
    session: AsyncSession,
    end_query: Any,
    rows_query: Any,
    tenant_id: int,
    after: tuple[int, int],
    limit: int,
    **params: Any,
) -> _Page | None:
    """One page after `after`: the rows `rows_query` keeps of it; None past the end."""
    page = {"t": tenant_id, "a1": after[0], "a2": after[1], "limit": limit}
    end = (await session.execute(end_query, page)).first()
    if end is None:
        return None
    last = (int(end.k1), int(end.k2))
    bounds = {**page, "z1": last[0], "z2": last[1], **params}
    rows = list((await session.execute(rows_query, bounds)).all())
    return _Page(rows=rows, last=last, full=int(end.n) == limit)


# A pre-filter on the stored figures (the conditions themselves are
# LevelFigures.holds): a level whose item has a lot past expiry not yet marked
# expired is always looked at, its availability counts that lot out.
_LEVELS = text(
    """
    WITH rows AS (
        SELECT s.item_id, s.warehouse_id, s.on_hand, s.reserved, s.allocated, s.held,
               s.incoming, s.on_hand - s.reserved - s.allocated - s.held AS free,
               i.sku, w.code AS warehouse, i.uom_unit, i.base_units_per_unit,
               i.low_stock_threshold, i.reorder_point, i.active AND w.active AS watched,
               EXISTS (SELECT 1 FROM lots l WHERE l.item_id = s.item_id
                       AND l.status = 'available' AND l.expires_on <= :today) AS due_lot
        FROM stock_levels s
        JOIN items i ON i.id = s.item_id
        JOIN warehouses w ON w.id = s.warehouse_id
        WHERE s.tenant_id = :t AND (s.item_id, s.warehouse_id) > (:a1, :a2)
          AND (s.item_id, s.warehouse_id) <= (:z1, :z2)
    ), kinds AS (
        SELECT r.*, k.kind, k.kind || ':' || r.sku || ':' || r.warehouse AS key
        FROM rows r CROSS JOIN unnest(CAST(:kinds AS text[])) AS k(kind)
    )
    SELECT k.*, a.id IS NOT NULL AS open
    FROM kinds k
    LEFT JOIN alerts a ON a.tenant_id = :t AND a.key = k.key AND a.resolved_at IS NULL
    WHERE a.id IS NOT NULL OR (k.watched AND (k.due_lot OR CASE k.kind
          WHEN 'low_stock' THEN k.free <= k.low_stock_threshold
          WHEN 'out_of_stock' THEN k.free <= 0
          ELSE k.free + k.incoming <= k.reorder_point END))
    ORDER BY k.item_id, k.warehouse_id, k.kind
    """
)


async def scan_levels(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: int,
    *,
    after: tuple[int, int],
    limit: int,
    today: date,
    beat: Callable[[], None],
) -> PageCounts:
    """Raise and resolve the level alerts (low_stock, out_of_stock,
    below_reorder_point) of one page of stock levels, after `after`."""
    async with sessions() as session:
        page = await _read_page(
            session,
            _LEVEL_PAGE_END,
            _LEVELS,
            tenant_id,
            after,
            limit,
            kinds=[k.value for k in LEVEL_ALERTS],
            today=today,
        )
        if page is None:
            return PageCounts(last=after)
        due = {(r.warehouse_id, r.item_id) for r in page.rows if r.due_lot}
        unmarked = await expired_unmarked_stock(session, due, today) if due else {}
    changes = []
    for row in page.rows:
        held = row.held + unmarked.get((row.warehouse_id, row.item_id), 0)
        figures = LevelFigures(
            sku=row.sku,
            warehouse=row.warehouse,
            uom=_uom(row),
            available=available_to_promise(
                on_hand=row.on_hand, reserved=row.reserved, allocated=row.allocated, held=held
            ),
            incoming=row.incoming,
            low_stock_threshold=row.low_stock_threshold,
            reorder_point=row.reorder_point,
            watched=row.watched,
        )
        kind = ScanAlert(row.kind)
        reference = f"{row.sku}@{row.warehouse}"
        change = _decide(
            tenant_id,
            row,
            "stock_level",
            reference,
            holds=figures.holds(kind),
            message=figures.message(kind),
            resolution=figures.resolution(kind),
        )
        if change is not None:
            changes.append(change)
    raised, resolved = await _apply(sessions, tenant_id, changes, beat)
    return PageCounts(raised=raised, resolved=resolved, last=page.last, more=page.full)


# Pre-filter: lots with stock that expired or expire within the item's warning
# days (LotFigures.holds decides), and the rows with an open alert.
_LOTS = text(
    """
    WITH rows AS (
        SELECT l.lot_id, l.warehouse_id, l.on_hand, lot.lot_number, lot.status,
               lot.expires_on, i.sku, w.code AS warehouse, i.uom_unit,
               i.base_units_per_unit, coalesce(i.expiry_warning_days, :days) AS warning_days,
               i.active AND w.active AS watched
        FROM lot_levels l
        JOIN lots lot ON lot.id = l.lot_id
        JOIN items i ON i.id = l.item_id
        JOIN warehouses w ON w.id = l.warehouse_id
        WHERE l.tenant_id = :t AND (l.lot_id, l.warehouse_id) > (:a1, :a2)
          AND (l.lot_id, l.warehouse_id) <= (:z1, :z2)
    ), kinds AS (
        SELECT r.*, k.kind,
               k.kind || ':' || r.sku || ':' || r.warehouse || ':' || r.lot_number AS key
        FROM rows r CROSS JOIN unnest(CAST(:kinds AS text[])) AS k(kind)
    )
    SELECT k.*, a.id IS NOT NULL AS open
    FROM kinds k
    LEFT JOIN alerts a ON a.tenant_id = :t AND a.key = k.key AND a.resolved_at IS NULL
    WHERE a.id IS NOT NULL OR (k.watched AND k.on_hand > 0 AND (k.status = 'expired'
          OR k.expires_on <= CAST(:today AS date) + k.warning_days))
    ORDER BY k.lot_id, k.warehouse_id, k.kind
    """
)


async def scan_lots(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: int,
    *,
    after: tuple[int, int],
    limit: int,
    today: date,
    warning_days: int,
    beat: Callable[[], None],
) -> PageCounts:
    """Raise and resolve the lot alerts (expiring, expired) of one page of lot
    levels, after `after`; `warning_days` for items that set none."""
    async with sessions() as session:
        page = await _read_page(
            session,
            _LOT_PAGE_END,
            _LOTS,
            tenant_id,
            after,
            limit,
            kinds=[k.value for k in LOT_ALERTS],
            today=today,
            days=warning_days,
        )
        if page is None:
            return PageCounts(last=after)
    changes = []
    for row in page.rows:
        figures = LotFigures(
            sku=row.sku,
            warehouse=row.warehouse,
            lot=row.lot_number,
            uom=_uom(row),
            on_hand=row.on_hand,
            status=LotStatus(row.status),
            expires_on=row.expires_on,
            warning_days=row.warning_days,
            watched=row.watched,
        )
        kind = ScanAlert(row.kind)
        reference = f"{row.sku}/{row.lot_number}@{row.warehouse}"
        change = _decide(
            tenant_id,
            row,
            "lot",
            reference,
            holds=figures.holds(kind, today),
            message=figures.message(kind),
            resolution=figures.resolution(kind, today),
        )
        if change is not None:
            changes.append(change)
    raised, resolved = await _apply(sessions, tenant_id, changes, beat)
    return PageCounts(raised=raised, resolved=resolved, last=page.last, more=page.full)


def _uom(row: Any) -> UnitOfMeasure:
    return UnitOfMeasure(unit=row.uom_unit, base_units_per_unit=row.base_units_per_unit)


@dataclass(frozen=True, kw_only=True)
class _Change:
    raise_: NewAlert | None = None  # raise it (a resolved one opens again)
    resolve: tuple[str, str] | None = None  # (key, resolution)


def _decide(
    tenant_id: int,
    row: Any,
    reference_type: str,
    reference_id: str,
    *,
    holds: bool,
    message: str,
    resolution: str,
) -> _Change | None:
    """Raise the row's alert when its condition holds and none is open; resolve the
    open one when it no longer holds; else nothing."""
    if holds and not row.open:
        alert = NewAlert(
            tenant_id=tenant_id,
            key=row.key,
            kind=row.kind,
            reference_type=reference_type,
            reference_id=reference_id,
            message=message,
        )
        return _Change(raise_=alert)
    if row.open and not holds:
        return _Change(resolve=(row.key, resolution))
    return None


async def _apply(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: int,
    changes: list[_Change],
    beat: Callable[[], None],
) -> tuple[int, int]:
    """A page's alert changes with their events, in one transaction. (raised, resolved)"""
    if not changes:
        return 0, 0
    resolved = 0
    async with sessions() as session, session.begin():
        alerts = [change.raise_ for change in changes if change.raise_ is not None]
        raised = await raise_alerts_in(session, alerts, reopen=True)
        for change in changes:
            if change.resolve is not None:
                beat()
                key, note = change.resolve
                resolved += await resolve_alerts_in(session, tenant_id, [key], note)
    return raised, resolved


# -- reconciliation ------------------------------------------------------------------

_OPEN_DRIFTS = text(
    "SELECT key FROM alerts WHERE tenant_id = :t AND kind = :kind AND resolved_at IS NULL"
)


def _drift_key(what: str) -> str:
    return f"{ScanAlert.RECONCILIATION}:{what}"[:200]  # the alerts' key column


async def reconcile_tenant(
    sessions: async_sessionmaker[AsyncSession], tenant_id: int
) -> PageCounts:
    """Check the tenant's stock invariants (db/stock/reconcile.py) in one consistent
    picture: a `reconciliation` alert per kind of drift naming each place; the open
    ones whose drift is gone are resolved."""
    kind = ScanAlert.RECONCILIATION
    async with sessions() as session, session.begin():
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        violations = await find_violations(session, tenant_id)
        slug = str(
            await session.scalar(text("SELECT slug FROM tenants WHERE id = :t"), {"t": tenant_id})
        )
        open_keys = set(await session.scalars(_OPEN_DRIFTS, {"t": tenant_id, "kind": kind}))
    by_what: dict[str, list[Drift]] = {}
    for v in violations:
        by_what.setdefault(v.what, []).append(
            Drift(what=v.what, where=v.where, expected=v.expected, actual=v.actual)
        )
    raised = 0
    for what, drifts in sorted(by_what.items()):
        key = _drift_key(what)
        if key in open_keys:
            continue
        alert = NewAlert(
            tenant_id=tenant_id,
            key=key,
            kind=kind,
            reference_type="tenant",
            reference_id=slug,
            message=drift_message(what, drifts, slug),
        )
        await raise_alert(sessions, alert, reopen=True)
        raised += 1
    agree = sorted(open_keys - {_drift_key(what) for what in by_what})
    resolved = await resolve_alerts(sessions, tenant_id, agree, "the books agree again")
    return PageCounts(raised=raised, resolved=resolved, drifts=len(by_what))
