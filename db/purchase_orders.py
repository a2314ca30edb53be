"""Reads of purchase orders from their tables: one PO's view, and the list."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.purchasing import PoLineView, PurchaseOrderView
from domain.purchasing import PurchaseOrderStatus

_PURCHASE_ORDERS = """
    SELECT po.id, po.po_number, po.workflow_id, po.supplier, w.code AS warehouse, po.status,
           po.reason, po.created_at, po.closed_at
    FROM purchase_orders po JOIN warehouses w ON w.id = po.warehouse_id
    WHERE po.tenant_id = :t
"""

_VIEW = text(_PURCHASE_ORDERS + " AND po.po_number = :n")

_LINES = text(
    """
    SELECT l.purchase_order_id, l.line_no, i.sku, l.item_id, l.ordered, l.received, l.expected_at
    FROM purchase_order_lines l JOIN items i ON i.id = l.item_id
    WHERE l.purchase_order_id = ANY(:ids) ORDER BY l.purchase_order_id, l.line_no
    """
)


async def purchase_order_view(
    session: AsyncSession, tenant_id: int, po_number: str
) -> PurchaseOrderView | None:
    """The PO as its tables have it (None: not recorded)."""
    row = (await session.execute(_VIEW, {"t": tenant_id, "n": po_number})).first()
    if row is None:
        return None
    return (await views_of(session, tenant_id, [row]))[0]


async def views_of(
    session: AsyncSession, tenant_id: int, rows: Sequence[Any]
) -> list[PurchaseOrderView]:
    """Views of PO rows (as `_VIEW` selects them), with their lines."""
    ids = [r.id for r in rows]
    lines: dict[int, list[PoLineView]] = {i: [] for i in ids}
    found = await session.execute(_LINES, {"ids": ids})
    for x in found:
        lines[x.purchase_order_id].append(
            PoLineView(
                line_no=x.line_no,
                sku=x.sku,
                ordered=int(x.ordered),
                received=int(x.received),
                expected_at=x.expected_at,
            )
        )
    return [
        PurchaseOrderView(
            tenant_id=tenant_id,
            po_number=r.po_number,
            workflow_id=r.workflow_id,
            supplier=r.supplier,
            warehouse=r.warehouse,
            status=PurchaseOrderStatus(r.status),
            lines=lines[r.id],
            created_at=r.created_at,
            closed_at=r.closed_at,
            reason=r.reason,
        )
        for r in rows
    ]


_LIST = (
    _PURCHASE_ORDERS
    + """
      AND (CAST(:status AS text) IS NULL OR po.status = :status)
      AND (CAST(:supplier AS text) IS NULL OR po.supplier = :supplier)
      AND (CAST(:warehouse AS text) IS NULL OR w.code = :warehouse)
      AND (CAST(:sku AS text) IS NULL OR EXISTS (
            SELECT 1 FROM purchase_order_lines l JOIN items i ON i.id = l.item_id
            WHERE l.purchase_order_id = po.id AND i.sku = :sku))
      AND (CAST(:before AS bigint) IS NULL OR po.id < :before)
    ORDER BY po.id DESC LIMIT :limit
"""
)


async def list_purchase_orders(
    session: AsyncSession,
    tenant_id: int,
    *,
    status: str | None,
    supplier: str | None,
    warehouse: str | None,
    sku: str | None,
    before: int | None,
    limit: int,
) -> list[tuple[int, PurchaseOrderView]]:
    """(id, view) of the tenant's POs, newest first, filtered; `before`: the cursor."""
    rows = list(
        await session.execute(
            text(_LIST),
            {
                "t": tenant_id,
                "status": status,
                "supplier": supplier,
                "warehouse": warehouse,
                "sku": sku,
                "before": before,
                "limit": limit,
            },
        )
    )
    views = await views_of(session, tenant_id, rows) if rows else []
    return [(int(r.id), v) for r, v in zip(rows, views, strict=True)]
