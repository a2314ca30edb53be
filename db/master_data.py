"""Changing a warehouse or a location. A warehouse is deactivated only when nothing
is in flight there; a location only when it holds no stock."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.alerts import raise_alert_in, staging_alert
from db.models import Location, Warehouse
from domain.catalogue import LocationType
from domain.errors import Conflict, InvalidInput, NotFound
from domain.orders import RequestStatus

# What keeps a warehouse busy, each with how the refusal says it.
_OPEN_WORK = {
    "open fulfillment requests": (
        "SELECT 1 FROM fulfillment_requests WHERE tenant_id = :t AND warehouse = :code"
        " AND status <> ALL(:final)"
    ),
    "stock reserved, allocated, in transit or incoming": (
        "SELECT 1 FROM stock_levels WHERE warehouse_id = :w AND (reserved <> 0"
        " OR allocated <> 0 OR in_transit <> 0 OR incoming <> 0)"
    ),
    "open purchase orders": (
        "SELECT 1 FROM purchase_orders WHERE warehouse_id = :w AND status = 'open'"
    ),
}


async def _warehouse_for_update(session: AsyncSession, tenant_id: int, code: str) -> Warehouse:
    warehouse = await session.scalar(
        select(Warehouse)
        .where(Warehouse.tenant_id == tenant_id, Warehouse.code == code)
        .with_for_update()
    )
    if warehouse is None:
        raise NotFound(f"warehouse {code!r} does not exist", field="warehouse")
    return warehouse


async def open_work(session: AsyncSession, warehouse: Warehouse) -> list[str]:
    checks = ", ".join(f"EXISTS ({sql}) AS c{n}" for n, sql in enumerate(_OPEN_WORK.values()))
    final = sorted(s.value for s in RequestStatus if s.is_final)
    params = {"t": warehouse.tenant_id, "w": warehouse.id, "code": warehouse.code, "final": final}
    row = (await session.execute(text(f"SELECT {checks}"), params)).one()
    return [reason for reason, busy in zip(_OPEN_WORK, row, strict=True) if busy]


async def update_warehouse(
    session: AsyncSession, tenant_id: int, code: str, values: dict[str, Any]
) -> Warehouse:
    """Set these columns. Deactivating waits for nothing: it is refused (Conflict
    naming `active`) while the warehouse has work in flight, which would otherwise be
    stranded (its picks, receipts and transfers need an active warehouse)."""
    warehouse = await _warehouse_for_update(session, tenant_id, code)
    if values.get("active") is False and warehouse.active:
        busy = await open_work(session, warehouse)
        if busy:
            raise Conflict(
                f"warehouse {code!r} cannot be deactivated while it has {', '.join(busy)}: "
                "finish, cancel or move them first",
                field="active",
            )
    for name, value in values.items():
        setattr(warehouse, name, value)
    await session.flush()
    return warehouse


async def _location(session: AsyncSession, warehouse: Warehouse, code: str, field: str) -> Location:
    location = await session.scalar(
        select(Location).where(Location.warehouse_id == warehouse.id, Location.code == code)
    )
    if location is None:
        raise NotFound(
            f"location {code!r} does not exist in warehouse {warehouse.code!r}", field=field
        )
    return location


async def _check_parent(session: AsyncSession, location: Location, parent: Location) -> None:
    """A parent that is not the location itself nor inside it (422 otherwise)."""
    ancestor: Location | None = parent
    while ancestor is not None:
        if ancestor.id == location.id:
            raise InvalidInput(
                f"location {parent.code!r} is inside {location.code!r}: it cannot be its parent",
                field="parent_code",
            )
        ancestor = (
            None if ancestor.parent_id is None else await session.get(Location, ancestor.parent_id)
        )


async def _holds_stock(session: AsyncSession, location: Location) -> bool:
    held = await session.scalar(
        text("SELECT EXISTS (SELECT 1 FROM balances WHERE location_id = :l AND on_hand <> 0)"),
        {"l": location.id},
    )
    return bool(held)


async def _other_staging(session: AsyncSession, location: Location) -> bool:
    other = await session.scalar(
        select(Location.id).where(
            Location.warehouse_id == location.warehouse_id,
            Location.id != location.id,
            Location.type == LocationType.STAGING.value,
            Location.active,
        )
    )
    return other is not None


async def update_location(
    session: AsyncSession,
    tenant_id: int,
    warehouse_code: str,
    code: str,
    values: dict[str, Any],
) -> tuple[Location, str | None]:
    """Set `pickable`, `active`, `parent_code`; the location and its parent's code.
    Deactivating one that holds stock is refused (Conflict naming `active`);
    deactivating the warehouse's last active staging location raises its `setup`
    alert (orders cannot be fulfilled there until it has one again)."""
    warehouse = await _warehouse_for_update(session, tenant_id, warehouse_code)
    location = await _location(session, warehouse, code, "location")
    columns = {k: v for k, v in values.items() if k in ("pickable", "active")}
    if "parent_code" in values:
        parent_code = values["parent_code"]
        parent = None
        if parent_code is not None:
            parent = await _location(session, warehouse, parent_code, "parent_code")
            await _check_parent(session, location, parent)
        columns["parent_id"] = None if parent is None else parent.id
    if columns.get("active") is False and location.active:
        if await _holds_stock(session, location):
            raise Conflict(
                f"location {code!r} holds stock: move it out before deactivating the location",
                field="active",
            )
        if location.type == LocationType.STAGING.value and not await _other_staging(
            session, location
        ):
            await raise_alert_in(session, staging_alert(tenant_id, warehouse.code), reopen=True)
    for name, value in columns.items():
        setattr(location, name, value)
    await session.flush()
    parent_of = await session.scalar(select(Location.code).where(Location.id == location.parent_id))
    return location, parent_of
