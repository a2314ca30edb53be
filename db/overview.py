"""A tenant's day at a glance, counted in the database: orders created since a time
by status, fulfillment requests waiting per warehouse (and since when), open alerts
by kind, transfers on their way, late purchase orders. One query for all of them;
the backordered lines are the backorder list's count (db/promise_dates.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.orders import WAITING_REQUEST_STATUSES
from db.promise_dates import backordered_line_count
from domain.purchasing import PurchaseOrderStatus
from domain.transfers import TransferStatus

# Each part counts rows by one key; `oldest` is the earliest creation among them.
_COUNTS = text(
    """
    SELECT 'orders' AS part, status AS key, count(*) AS n, min(created_at) AS oldest
    FROM orders WHERE tenant_id = :t AND version > 0 AND created_at >= :since
    GROUP BY status
    UNION ALL
    SELECT 'requests', warehouse, count(*), min(created_at)
    FROM fulfillment_requests WHERE tenant_id = :t AND status = ANY(:waiting)
    GROUP BY warehouse
    UNION ALL
    SELECT 'alerts', kind, count(*), min(created_at)
    FROM alerts WHERE tenant_id = :t AND resolved_at IS NULL
    GROUP BY kind
    UNION ALL
    SELECT 'transfers', status, count(*), min(created_at)
    FROM transfers WHERE tenant_id = :t AND version > 0 AND status = ANY(:on_the_way)
    GROUP BY status
    UNION ALL
    SELECT 'late_pos', '', count(*), min(po.created_at)
    FROM purchase_orders po
    WHERE po.tenant_id = :t AND po.status = :open AND EXISTS (
        SELECT 1 FROM purchase_order_lines l
        WHERE l.purchase_order_id = po.id AND l.ordered > l.received AND l.expected_at <= :now)
    """
)

# Not yet shipped or canceled; shipped and not yet all received.
ON_THE_WAY = tuple(s.value for s in TransferStatus if s.receivable)


@dataclass(frozen=True, kw_only=True)
class WaitingRequests:
    warehouse: str
    requests: int
    oldest_created_at: datetime


@dataclass(frozen=True, kw_only=True)
class Overview:
    orders_by_status: dict[str, int]
    requests_waiting: list[WaitingRequests]  # by warehouse code
    backordered_lines: int
    open_alerts_by_kind: dict[str, int]
    transfers_by_status: dict[str, int]  # in transit, partially received
    late_purchase_orders: int


async def overview(
    session: AsyncSession, tenant_id: int, *, since: datetime, now: datetime
) -> Overview:
    """The tenant's figures: orders created at or after `since`; a purchase order is
    late when it is open with a line past its expected date and units outstanding
    (domain/purchasing.py `late_lines`), as of `now`."""
    rows = await session.execute(
        _COUNTS,
        {
            "t": tenant_id,
            "since": since,
            "now": now,
            "waiting": list(WAITING_REQUEST_STATUSES),
            "on_the_way": list(ON_THE_WAY),
            "open": PurchaseOrderStatus.OPEN.value,
        },
    )
    parts: dict[str, dict[str, tuple[int, datetime | None]]] = {}
    for row in rows:
        parts.setdefault(row.part, {})[row.key] = (int(row.n), row.oldest)

    def counts(part: str) -> dict[str, int]:
        return {key: n for key, (n, _) in sorted(parts.get(part, {}).items())}

    return Overview(
        orders_by_status=counts("orders"),
        requests_waiting=[
            WaitingRequests(warehouse=code, requests=n, oldest_created_at=oldest)
            for code, (n, oldest) in sorted(parts.get("requests", {}).items())
            if oldest is not None
        ],
        backordered_lines=await backordered_line_count(session, tenant_id),
        open_alerts_by_kind=counts("alerts"),
        transfers_by_status=counts("transfers"),
        late_purchase_orders=counts("late_pos").get("", 0),
    )
