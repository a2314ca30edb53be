"""Items as the API shows them (with suppliers and barcodes), changed field by field,
and created in bulk from an import."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from api.item_import import Parsed, refuse
from api.schemas.catalogue import ItemPublic
from api.schemas.master_data import ImportResult, ItemUpdate, stock_bound
from db import item_import, items
from db.models import Item
from domain.catalogue import stock_bound_changes
from domain.errors import Conflict, NotFound


async def public(session: AsyncSession, rows: Sequence[Item]) -> list[ItemPublic]:
    links = await items.links_of(session, [row.id for row in rows])
    return [ItemPublic.of(row, links[row.id].suppliers, links[row.id].barcodes) for row in rows]


async def update_item(
    session: AsyncSession, tenant_id: int, sku: str, patch: ItemUpdate
) -> ItemPublic:
    """Apply the changes given; the whole result is checked as a new item would be.
    A change of unit or tracking is refused (Conflict naming the field) while the
    item has stock or open demand: their quantities are counted in its base units."""
    item = await items.item_for_update(session, tenant_id, sku)
    if item is None:
        raise NotFound(f"item {sku!r} does not exist", field="sku")
    (current,) = await public(session, [item])
    new = patch.applied_to(current).to_domain()
    if patch.keeps_purchase_multiple():
        new = replace(new, purchase_multiple=item.purchase_multiple)
    bound = stock_bound_changes(stock_bound(current), new)
    if bound:
        uses = await items.uses_of(session, item.id)
        if uses:
            raise Conflict(
                f"{' and '.join(bound)} of item {sku!r} cannot change while it has "
                f"{', '.join(uses)}",
                field=bound[0],
            )
    changed = patch.changes()
    links = "suppliers" in changed or "barcodes" in changed
    (result,) = await public(session, [await items.update_item(session, item, new, links=links)])
    return result


async def find_clashes(session: AsyncSession, tenant_id: int, parsed: Parsed) -> None:
    """A row whose SKU or barcode the tenant already has is bad (an import only creates)."""
    specs = [spec for _, spec in parsed.items]
    existing = await item_import.existing_skus(session, tenant_id, [s.sku for s in specs])
    owners = await item_import.taken_barcodes(session, tenant_id, specs)
    for row, spec in parsed.items:
        if spec.sku in existing:
            parsed.bad(row, "sku", f"item {spec.sku!r} already exists")
        for code in spec.barcodes:
            if code in owners:
                parsed.bad(row, "barcodes", f"barcode {code!r} already belongs to {owners[code]!r}")


async def import_items(session: AsyncSession, tenant_id: int, parsed: Parsed) -> ImportResult:
    """Create every item of a checked file, or none (422 listing every bad row)."""
    await find_clashes(session, tenant_id, parsed)
    if parsed.errors:
        raise refuse(parsed.errors)
    specs = [spec for _, spec in parsed.items]
    created = await item_import.insert_items(session, tenant_id, specs)
    return ImportResult(created=created, skus=[s.sku for s in specs[:100]])
