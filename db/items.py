"""Writing an item's definition: its row, suppliers and barcodes; what stock and open
demand it has (while it has any, its unit of measure and tracking cannot change)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, any_, bindparam, delete, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Item, ItemBarcode, ItemSupplier
from db.stock.lookups import uom_of
from domain.catalogue import ItemSpec, SupplierSpec
from domain.errors import Conflict
from domain.orders import FINAL_STATUSES

# Postgres NOTIFY channel: `<tenant id>:<sku>` of an item whose unit of measure
# changed, sent when the change commits (API processes forget the unit they cached).
UNITS_CHANNEL = "oms_item_units"


def item_values(spec: ItemSpec) -> dict[str, Any]:
    """The `items` columns of a definition (not its tenant, suppliers or barcodes)."""
    uom = spec.uom
    return {
        "sku": spec.sku,
        "name": spec.name,
        "uom_unit": uom.unit,
        "base_units_per_unit": uom.base_units_per_unit,
        "min_increment_base": uom.increment_base,
        "min_cut_base": uom.min_cut_base,
        "rounding": uom.rounding.value,
        "track_lot": spec.track_lot,
        "track_serial": spec.track_serial,
        "track_expiry": spec.track_expiry,
        "requires_inspection": spec.requires_inspection,
        "default_strategy": spec.default_strategy.value,
        "reorder_point": spec.reorder_point,
        "safety_stock": spec.safety_stock,
        "low_stock_threshold": spec.low_stock_threshold,
        "backorder_policy": spec.backorder_policy.value,
        "backorder_limit": spec.backorder_limit,
        "lead_time_days": spec.lead_time_days,
        "purchase_multiple": spec.purchase_multiple,
        "max_stock": spec.max_stock,
        "expiry_warning_days": spec.expiry_warning_days,
        "default_supplier": spec.default_supplier,
        "active": spec.active,
    }


def supplier_rows(tenant_id: int, item_id: int, spec: ItemSpec) -> list[dict[str, Any]]:
    return [
        {
            "tenant_id": tenant_id,
            "item_id": item_id,
            "supplier": s.supplier,
            "lead_time_days": s.lead_time_days,
            "purchase_multiple": s.purchase_multiple,
        }
        for s in spec.suppliers
    ]


def barcode_rows(tenant_id: int, item_id: int, spec: ItemSpec) -> list[dict[str, Any]]:
    return [{"tenant_id": tenant_id, "item_id": item_id, "barcode": b} for b in spec.barcodes]


async def barcode_owners(
    session: AsyncSession, tenant_id: int, codes: Iterable[str]
) -> dict[str, str]:
    """The SKU that has each of these barcodes (codes no item has are absent)."""
    rows = await session.execute(
        select(ItemBarcode.barcode, Item.sku)
        .join(Item, Item.id == ItemBarcode.item_id)
        .where(
            ItemBarcode.tenant_id == tenant_id,
            ItemBarcode.barcode == any_(bindparam("codes", list(codes), type_=ARRAY(String))),
        )
    )
    return {barcode: sku for barcode, sku in rows}


def barcode_taken(code: str, owner: str, field: str) -> Conflict:
    return Conflict(f"barcode {code!r} already belongs to item {owner!r}", field=field)


async def save_links(
    session: AsyncSession, tenant_id: int, item_id: int, spec: ItemSpec, *, replace: bool
) -> None:
    """Write the item's suppliers and barcodes (replacing what it had, with
    `replace`); a barcode another item has is a Conflict naming both."""
    if replace:
        await session.execute(delete(ItemSupplier).where(ItemSupplier.item_id == item_id))
        await session.execute(delete(ItemBarcode).where(ItemBarcode.item_id == item_id))
    if spec.suppliers:
        await session.execute(insert(ItemSupplier), supplier_rows(tenant_id, item_id, spec))
    if not spec.barcodes:
        return
    owners = await barcode_owners(session, tenant_id, spec.barcodes)
    for n, code in enumerate(spec.barcodes):
        if code in owners:
            raise barcode_taken(code, owners[code], f"barcodes.{n}")
    statement = insert(ItemBarcode).on_conflict_do_nothing()
    await session.execute(statement, barcode_rows(tenant_id, item_id, spec))
    taken = await barcode_owners(session, tenant_id, spec.barcodes)
    for n, code in enumerate(spec.barcodes):  # taken meanwhile by a concurrent write
        if taken.get(code) != spec.sku:
            raise barcode_taken(code, taken.get(code, "?"), f"barcodes.{n}")


@dataclass(frozen=True, kw_only=True)
class ItemLinks:
    suppliers: list[SupplierSpec] = field(default_factory=list)
    barcodes: list[str] = field(default_factory=list)


async def links_of(session: AsyncSession, item_ids: Sequence[int]) -> dict[int, ItemLinks]:
    """Suppliers (by name) and barcodes (in order) of these items."""
    links = {item_id: ItemLinks() for item_id in item_ids}
    suppliers = await session.scalars(
        select(ItemSupplier)
        .where(ItemSupplier.item_id.in_(item_ids))
        .order_by(ItemSupplier.item_id, ItemSupplier.supplier)
    )
    for s in suppliers:
        links[s.item_id].suppliers.append(
            SupplierSpec(
                supplier=s.supplier,
                lead_time_days=s.lead_time_days,
                purchase_multiple=s.purchase_multiple,
            )
        )
    barcodes = await session.execute(
        select(ItemBarcode.item_id, ItemBarcode.barcode)
        .where(ItemBarcode.item_id.in_(item_ids))
        .order_by(ItemBarcode.item_id, ItemBarcode.barcode)
    )
    for item_id, barcode in barcodes:
        links[item_id].barcodes.append(barcode)
    return links


async def item_for_update(session: AsyncSession, tenant_id: int, sku: str) -> Item | None:
    return await session.scalar(
        select(Item).where(Item.tenant_id == tenant_id, Item.sku == sku).with_for_update()
    )


async def item_by_barcode(session: AsyncSession, tenant_id: int, code: str) -> Item | None:
    return await session.scalar(
        select(Item)
        .join(ItemBarcode, ItemBarcode.item_id == Item.id)
        .where(ItemBarcode.tenant_id == tenant_id, ItemBarcode.barcode == code)
    )


async def update_item(session: AsyncSession, item: Item, spec: ItemSpec, *, links: bool) -> Item:
    """The item defined anew (and its suppliers and barcodes, with `links`); a new
    unit of measure is announced on UNITS_CHANNEL at commit."""
    if spec.uom != uom_of(item):
        await session.execute(
            text("SELECT pg_notify(:c, :p)"),
            {"c": UNITS_CHANNEL, "p": f"{item.tenant_id}:{item.sku}"},
        )
    await session.execute(
        update(Item)
        .where(Item.id == item.id)
        .values(**item_values(spec))
        .execution_options(synchronize_session=False)
    )
    if links:
        await save_links(session, item.tenant_id, item.id, spec, replace=True)
    await session.refresh(item)
    return item


# What holds an item's quantities in base units, each with how the refusal says it.
_IN_USE = {
    "stock on hand": "SELECT 1 FROM balances WHERE item_id = :i AND on_hand <> 0",
    "stock reserved, allocated, held, in transit or incoming": (
        "SELECT 1 FROM stock_levels WHERE item_id = :i AND (on_hand <> 0 OR reserved <> 0"
        " OR allocated <> 0 OR held <> 0 OR in_transit <> 0 OR incoming <> 0)"
    ),
    "open reservations": "SELECT 1 FROM reservations WHERE item_id = :i AND quantity > 0",
    "open allocations": (
        "SELECT 1 FROM allocations WHERE item_id = :i AND quantity > 0"
        " AND status IN ('allocated', 'picked')"
    ),
    "open order lines": (
        "SELECT 1 FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE l.item_id = :i"
        " AND o.status <> ALL(:final) AND l.ordered - l.shipped - l.canceled > 0"
    ),
    "backordered order lines": "SELECT 1 FROM order_lines WHERE item_id = :i AND backordered > 0",
    "open purchase order lines": (
        "SELECT 1 FROM purchase_order_lines l JOIN purchase_orders p"
        " ON p.id = l.purchase_order_id WHERE l.item_id = :i AND p.status = 'open'"
        " AND l.ordered > l.received"
    ),
}


async def uses_of(session: AsyncSession, item_id: int) -> list[str]:
    """What the item has that is counted in its base units (empty: none)."""
    checks = ", ".join(f"EXISTS ({sql}) AS c{n}" for n, sql in enumerate(_IN_USE.values()))
    row = (
        await session.execute(
            text(f"SELECT {checks}"),
            {"i": item_id, "final": sorted(s.value for s in FINAL_STATUSES)},
        )
    ).one()
    return [reason for reason, used in zip(_IN_USE, row, strict=True) if used]
