"""Seeding for replenishment reads: replenishment fields of items, a demand history
in the ledger, open purchase-order lines and backordered order lines, written by SQL
(their own routes and workflows belong to other parts and would take minutes to
replay 90 days).

A history day is booked as a receipt and a shipment of the same quantity at the
same place (and a return as a receipt), backdated to noon UTC of that day: the
ledger stays equal to the balances, so the invariants hold."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.stock.reconcile import find_violations
from tests.conftest import TenantKeys

_IDS = """
    SELECT t.id AS tenant_id, w.id AS warehouse_id, l.id AS location_id, i.id AS item_id
    FROM tenants t JOIN warehouses w ON w.tenant_id = t.id AND w.code = :wh
    JOIN locations l ON l.warehouse_id = w.id AND l.code = 'A1'
    JOIN items i ON i.tenant_id = t.id AND i.sku = :sku
    WHERE t.slug = :slug
"""
_MOVE = text(
    """
    INSERT INTO movements (tenant_id, type, warehouse_id, item_id, quantity, from_location_id,
        to_location_id, reference_type, reference_id, actor, idempotency_key, seq, created_at)
    VALUES (:tenant_id, :type, :warehouse_id, :item_id, :quantity, :source, :target, 'seed',
            NULL, 'test', :key, :seq, :at)
    """
)


async def tenant_id(sessions: async_sessionmaker[AsyncSession], tenant: TenantKeys) -> int:
    async with sessions() as session:
        found = await session.scalar(
            text("SELECT id FROM tenants WHERE slug = :s"), {"s": tenant.slug}
        )
    assert found is not None
    return int(found)


async def _ids(session: AsyncSession, tenant: TenantKeys, sku: str, wh: str) -> Any:
    return (await session.execute(text(_IDS), {"slug": tenant.slug, "sku": sku, "wh": wh})).one()


async def set_item(
    sessions: async_sessionmaker[AsyncSession], tenant: TenantKeys, sku: str, **fields: Any
) -> None:
    """Replenishment fields of an item, in base units."""
    assignments = ", ".join(f"{name} = :{name}" for name in fields)
    async with sessions() as session, session.begin():
        await session.execute(
            text(
                f"UPDATE items SET {assignments} WHERE sku = :sku"
                " AND tenant_id = (SELECT id FROM tenants WHERE slug = :slug)"
            ),
            {**fields, "sku": sku, "slug": tenant.slug},
        )


async def add_supplier(
    sessions: async_sessionmaker[AsyncSession],
    tenant: TenantKeys,
    sku: str,
    supplier: str,
    *,
    lead_time_days: int,
    purchase_multiple: int | None,
) -> None:
    async with sessions() as session, session.begin():
        ids = await _ids(session, tenant, sku, "WH1")
        await session.execute(
            text(
                "INSERT INTO item_suppliers (tenant_id, item_id, supplier, lead_time_days,"
                " purchase_multiple) VALUES (:t, :i, :s, :d, :m)"
            ),
            {
                "t": ids.tenant_id,
                "i": ids.item_id,
                "s": supplier,
                "d": lead_time_days,
                "m": purchase_multiple,
            },
        )


async def seed_demand(
    sessions: async_sessionmaker[AsyncSession],
    tenant: TenantKeys,
    sku: str,
    daily: dict[date, tuple[int, int]],
    warehouse: str = "WH1",
) -> None:
    """For each day: (shipped, returned) base units."""
    async with sessions() as session, session.begin():
        ids = await _ids(session, tenant, sku, warehouse)
        base = {
            "tenant_id": ids.tenant_id,
            "warehouse_id": ids.warehouse_id,
            "item_id": ids.item_id,
        }
        rows = []
        for day, (shipped, returned) in daily.items():
            at = datetime.combine(day, time(12), UTC)
            key = f"seed-{uuid.uuid4().hex}"
            place = ids.location_id
            for seq, (kind, quantity, source, target) in enumerate(
                [
                    ("receipt", shipped, None, place),
                    ("ship", shipped, place, None),
                    ("return_restock", returned, None, place),
                    ("scrap", returned, place, None),
                ]
            ):
                if quantity:
                    rows.append(
                        base
                        | {
                            "type": kind,
                            "quantity": quantity,
                            "source": source,
                            "target": target,
                            "key": key,
                            "seq": seq,
                            "at": at,
                        }
                    )
        await session.execute(_MOVE, rows)


async def open_po_line(
    sessions: async_sessionmaker[AsyncSession],
    tenant: TenantKeys,
    sku: str,
    *,
    ordered: int,
    expected_on: date,
    warehouse: str = "WH1",
) -> None:
    """An open PO with one line, and the level's `incoming` up by it (the rule)."""
    async with sessions() as session, session.begin():
        ids = await _ids(session, tenant, sku, warehouse)
        number = f"PO-{uuid.uuid4().hex[:8]}"
        po_id = await session.scalar(
            text(
                "INSERT INTO purchase_orders (tenant_id, po_number, supplier, warehouse_id,"
                " status, workflow_id) VALUES (:t, :n, 'ACME', :w, 'open', :n) RETURNING id"
            ),
            {"t": ids.tenant_id, "n": number, "w": ids.warehouse_id},
        )
        await session.execute(
            text(
                "INSERT INTO purchase_order_lines (purchase_order_id, line_no, tenant_id,"
                " item_id, ordered, received, expected_at) VALUES (:po, 1, :t, :i, :q, 0, :at)"
            ),
            {
                "po": po_id,
                "t": ids.tenant_id,
                "i": ids.item_id,
                "q": ordered,
                "at": datetime.combine(expected_on, time(9), UTC),
            },
        )
        await session.execute(
            text(
                "UPDATE stock_levels SET incoming = incoming + :q"
                " WHERE warehouse_id = :w AND item_id = :i"
            ),
            {"q": ordered, "w": ids.warehouse_id, "i": ids.item_id},
        )


async def backordered_line(
    sessions: async_sessionmaker[AsyncSession], tenant: TenantKeys, sku: str, quantity: int
) -> None:
    """An order (projection row) with one line waiting for `quantity` of the SKU."""
    async with sessions() as session, session.begin():
        ids = await _ids(session, tenant, sku, "WH1")
        number = f"SO-{uuid.uuid4().hex[:8]}"
        order_id = await session.scalar(
            text(
                "INSERT INTO orders (tenant_id, order_number, workflow_id, customer_id,"
                " currency, status, fulfillment_policy, priority, allow_split,"
                " payment_status, version, view) VALUES (:t, :n, :n, 'c-1', 'EUR',"
                " 'backordered', 'ship_partial', 0, true, 'paid', 1, '{}') RETURNING id"
            ),
            {"t": ids.tenant_id, "n": number},
        )
        await session.execute(
            text(
                "INSERT INTO order_lines (order_id, line_id, tenant_id, item_id, ordered,"
                " unit_price, backordered, shipped, canceled) VALUES (:o, '1', :t, :i, :q, 1,"
                " :q, 0, 0)"
            ),
            {"o": order_id, "t": ids.tenant_id, "i": ids.item_id, "q": quantity},
        )


def history_days(today: date, days: int) -> list[date]:
    """The `days` whole days before today, oldest first."""
    return [today - timedelta(days=d) for d in range(days, 0, -1)]


async def assert_reconciled(sessions: async_sessionmaker[AsyncSession], tenant: TenantKeys) -> None:
    async with sessions() as session, session.begin():
        violations = await find_violations(session, await tenant_id(sessions, tenant))
    assert violations == [], violations
