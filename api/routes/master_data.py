"""Changing master data: an item, a warehouse, a location (only the fields given),
finding an item by barcode, and importing items from a CSV file. Admins only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api import items_service
from api.deps import (
    AdminDep,
    IdempotencyKeyHeader,
    PrincipalDep,
    ResourcesDep,
    SessionDep,
    caller_for,
)
from api.item_import import COLUMNS, parse_items, refuse
from api.problems import PROBLEM_DOCS, Problem
from api.resources import Resources
from api.routing import api_router
from api.schemas.catalogue import ItemPublic, LocationPublic, WarehousePublic
from api.schemas.common import Code, WarehouseCode
from api.schemas.master_data import ImportResult, ItemUpdate, LocationUpdate, WarehouseUpdate
from api.units import forget_units
from db import items, master_data
from db.stock.operation import OperationContext, run_operation
from db.tenants import Principal
from domain.errors import NotFound

router = api_router(prefix="/v1", tags=["catalogue"])

T = TypeVar("T", bound=BaseModel)


async def _changed(
    resources: Resources,
    principal: Principal,
    key: str | None,
    operation: str,
    command: Any,
    result_type: type[T],
    work: Callable[[AsyncSession], Awaitable[T]],
) -> T:
    """Run `work` in one transaction under the caller's Idempotency-Key (a fresh one
    when none is sent): the same key again replays the first answer."""

    async def body(ctx: OperationContext) -> T:
        result = await work(ctx.session)
        await ctx.record(result, result_type)
        return result

    caller = caller_for(principal, key, required=False)
    return await run_operation(resources.sessions, caller, operation, command, result_type, body)


_CSV_EXAMPLE = (
    "sku,name,unit,base_units_per_unit,min_increment,reorder_point,max_stock,"
    "lead_time_days,purchase_multiple,barcodes\n"
    "FABRIC-BLUE,Blue cotton,yd,4,0.25,40,200,10,50,4006381333931\n"
    "MUG-XL,Mug XL,,,,12,48,5,6,036000291452|96385074\n"
)


@router.patch(
    "/items/{sku}",
    response_model=ItemPublic,
    summary="Change an item: only the fields given (unit or tracking only while it has no "
    "stock and no open demand)",
)
async def update_item(
    sku: Code,
    body: ItemUpdate,
    principal: AdminDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> ItemPublic:
    async def change(session: AsyncSession) -> ItemPublic:
        return await items_service.update_item(session, principal.tenant_id, sku, body)

    result = await _changed(
        resources, principal, key, "update_item", (sku, body), ItemPublic, change
    )
    if "uom" in body.changes():
        forget_units(f"{principal.tenant_id}:{sku}")  # other processes hear the NOTIFY
    return result


@router.get(
    "/items/by-barcode/{code}", response_model=ItemPublic, summary="The item with a barcode"
)
async def item_by_barcode(code: Code, principal: PrincipalDep, session: SessionDep) -> ItemPublic:
    item = await items.item_by_barcode(session, principal.tenant_id, code)
    if item is None:
        raise NotFound(f"no item has barcode {code!r}", field="code")
    (result,) = await items_service.public(session, [item])
    return result


@router.post(
    "/items/import",
    response_model=ImportResult,
    status_code=201,
    summary="Create items from a CSV file: all of them, or none and every bad row listed",
    responses={415: PROBLEM_DOCS[415]},
    description="A `text/csv` body (UTF-8), read as it streams in. The header names the "
    f"columns, in any order: {', '.join(f'`{c}`' for c in COLUMNS)} (`sku` and `name` "
    "required). Each row is checked by the rules of `POST /v1/items`; an empty cell takes "
    "its default; `barcodes` are separated by `|`. A SKU the tenant has, or one on two "
    "rows, is a bad row (an import only creates). Any bad row: 422 with `rows` listing "
    "every one (row = line number, field = column, message), nothing created. The body "
    "limit is OMS_MAX_BODY_BYTES.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}, "example": _CSV_EXAMPLE}},
        }
    },
)
async def import_items(
    request: Request,
    principal: AdminDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> ImportResult:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("text/csv", "application/csv"):
        raise Problem(415, "unsupported-media-type", "send the file as text/csv", field="body")
    parsed = await parse_items(request.stream())
    if parsed.errors:  # the rows that clash with the tenant's items are bad too
        async with resources.sessions() as session:
            await items_service.find_clashes(session, principal.tenant_id, parsed)
        raise refuse(parsed.errors)

    async def create(session: AsyncSession) -> ImportResult:
        return await items_service.import_items(session, principal.tenant_id, parsed)

    return await _changed(
        resources, principal, key, "import_items", parsed.digest, ImportResult, create
    )


@router.patch(
    "/warehouses/{code}",
    response_model=WarehousePublic,
    summary="Change a warehouse: only the fields given. Deactivating stops new orders, "
    "reservations and receipts there and is refused (409) while it has open fulfillment "
    "requests, reserved, allocated, in-transit or incoming stock, or open purchase orders; "
    "stock on hand stays (not available to sell) until it is reactivated",
)
async def update_warehouse(
    code: WarehouseCode,
    body: WarehouseUpdate,
    principal: AdminDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> WarehousePublic:
    async def change(session: AsyncSession) -> WarehousePublic:
        values = body.values()
        return WarehousePublic.of(
            await master_data.update_warehouse(session, principal.tenant_id, code, values)
        )

    return await _changed(
        resources, principal, key, "update_warehouse", (code, body), WarehousePublic, change
    )


@router.patch(
    "/warehouses/{code}/locations/{location}",
    response_model=LocationPublic,
    summary="Change a location: pickable, active, parent (deactivating one that holds "
    "stock is refused)",
)
async def update_location(
    code: WarehouseCode,
    location: Code,
    body: LocationUpdate,
    principal: AdminDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> LocationPublic:
    async def change(session: AsyncSession) -> LocationPublic:
        row, parent = await master_data.update_location(
            session, principal.tenant_id, code, location, body.changes()
        )
        return LocationPublic.of(row, parent)

    command = (code, location, body)
    return await _changed(
        resources, principal, key, "update_location", command, LocationPublic, change
    )
