"""Creating and reading warehouses, locations and items."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.items import item_values, save_links
from db.models import Base, Item, Location, Warehouse
from db.stock.lookups import Catalogue
from domain.catalogue import ItemSpec, LocationSpec, WarehouseSpec, with_staging
from domain.errors import Conflict, InvalidInput

M = TypeVar("M", bound=Base)


async def _insert_new(
    session: AsyncSession,
    model: type[M],
    values: dict[str, Any],
    unique: list[Any],
    taken: str,
    where: str = "",
) -> M:
    """Insert a row whose business key must be new; 409 naming `code`/`sku` (after
    `where`, e.g. `locations.0.`) if not."""
    statement = (
        insert(model).values(**values).on_conflict_do_nothing(index_elements=unique)
    ).returning(model)
    created: M | None = await session.scalar(statement)
    if created is None:
        field = "sku" if model is Item else "code"
        raise Conflict(f"{taken} already exists", field=f"{where}{field}")
    return created


async def create_warehouse(
    session: AsyncSession,
    tenant_id: int,
    spec: WarehouseSpec,
    locations: Sequence[LocationSpec] = (),
) -> Warehouse:
    """The warehouse and its locations (in order: a parent before its children), with
    a staging area `STAGE` unless one of them is a staging location."""
    values = {
        "tenant_id": tenant_id,
        "code": spec.code,
        "name": spec.name,
        "priority": spec.priority,
        "timezone": spec.timezone,
        "active": spec.active,
        "address": spec.address,
    }
    unique = [Warehouse.tenant_id, Warehouse.code]
    created = await _insert_new(session, Warehouse, values, unique, f"warehouse {spec.code!r}")
    catalogue = Catalogue(session, tenant_id)
    for n, location in enumerate(with_staging(spec.code, locations)):
        await _insert_location(catalogue, created, location, f"locations.{n}.")
    return created


async def create_location(session: AsyncSession, tenant_id: int, spec: LocationSpec) -> Location:
    catalogue = Catalogue(session, tenant_id)
    return await _insert_location(catalogue, await catalogue.warehouse(spec.warehouse), spec)


async def _insert_location(
    catalogue: Catalogue, warehouse: Warehouse, spec: LocationSpec, where: str = ""
) -> Location:
    parent_id = None
    if spec.parent_code is not None:
        parent = await catalogue.location(warehouse, spec.parent_code, f"{where}parent_code")
        parent_id = parent.id
    values = {
        "tenant_id": catalogue.tenant_id,
        "warehouse_id": warehouse.id,
        "code": spec.code,
        "type": spec.type.value,
        "parent_id": parent_id,
        "pickable": spec.is_pickable,
        "active": spec.active,
    }
    taken = f"location {spec.code!r} in {spec.warehouse!r}"
    unique = [Location.warehouse_id, Location.code]
    return await _insert_new(catalogue.session, Location, values, unique, taken, where)


async def create_item(session: AsyncSession, tenant_id: int, spec: ItemSpec) -> Item:
    if not spec.sku.strip():
        raise InvalidInput("sku must not be blank", field="sku")
    values = {"tenant_id": tenant_id, **item_values(spec)}
    created = await _insert_new(
        session, Item, values, [Item.tenant_id, Item.sku], f"item {spec.sku!r}"
    )
    await save_links(session, tenant_id, created.id, spec, replace=False)
    return created


async def list_warehouses(session: AsyncSession, tenant_id: int) -> list[Warehouse]:
    rows = await session.scalars(
        select(Warehouse).where(Warehouse.tenant_id == tenant_id).order_by(Warehouse.code)
    )
    return list(rows)


async def list_items(
    session: AsyncSession, tenant_id: int, after_sku: str | None, limit: int
) -> list[Item]:
    query = select(Item).where(Item.tenant_id == tenant_id)
    if after_sku is not None:
        query = query.where(Item.sku > after_sku)
    return list(await session.scalars(query.order_by(Item.sku).limit(limit)))


async def list_locations(
    session: AsyncSession, warehouse_id: int
) -> list[tuple[Location, str | None]]:
    """The warehouse's locations with their parent's code, by code."""
    parent = aliased(Location)
    rows = await session.execute(
        select(Location, parent.code)
        .outerjoin(parent, parent.id == Location.parent_id)
        .where(Location.warehouse_id == warehouse_id)
        .order_by(Location.code)
    )
    return [(location, parent_code) for location, parent_code in rows]
