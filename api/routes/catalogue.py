"""Items, warehouses and locations."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from api import items_service
from api.deps import (
    IdempotencyKeyHeader,
    PrincipalDep,
    ResourcesDep,
    SessionDep,
    WmsWriterDep,
    caller_for,
)
from api.routing import api_router
from api.schemas.catalogue import (
    ItemCreate,
    ItemPublic,
    LocationCreate,
    LocationPublic,
    WarehouseCreate,
    WarehousePublic,
)
from api.schemas.common import (
    Code,
    Cursor,
    Limit,
    Page,
    WarehouseCode,
    decode_cursor,
    encode_cursor,
)
from db import catalogue, items
from db.stock.lookups import Catalogue
from db.stock.operation import OperationContext, run_operation

router = api_router(prefix="/v1", tags=["catalogue"])


@router.post("/items", response_model=ItemPublic, status_code=201, summary="Create an item (SKU)")
async def create_item(
    body: ItemCreate,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> ItemPublic:
    spec = body.to_domain()

    async def create(ctx: OperationContext) -> ItemPublic:
        row = await catalogue.create_item(ctx.session, ctx.tenant_id, spec)
        suppliers = sorted(spec.suppliers, key=lambda s: s.supplier)
        result = ItemPublic.of(row, suppliers, sorted(spec.barcodes))  # as a read shows them
        await ctx.record(result, ItemPublic)
        return result

    caller = caller_for(principal, key, required=False)
    return await run_operation(resources.sessions, caller, "create_item", body, ItemPublic, create)


@router.get("/items/{sku}", response_model=ItemPublic, summary="One item")
async def get_item(sku: Code, principal: PrincipalDep, session: SessionDep) -> ItemPublic:
    item = await Catalogue(session, principal.tenant_id).item(sku)
    (result,) = await items_service.public(session, [item])
    return result


@router.get(
    "/items", response_model=Page[ItemPublic], summary="Items by SKU, or the one with a barcode"
)
async def list_items(
    principal: PrincipalDep,
    session: SessionDep,
    cursor: Cursor | None = None,
    limit: Annotated[Limit, Query()] = 100,
    barcode: Annotated[
        Code | None, Query(description="only the item with this barcode (none: an empty page)")
    ] = None,
) -> Page[ItemPublic]:
    if barcode is not None:
        found = await items.item_by_barcode(session, principal.tenant_id, barcode)
        return Page(items=await items_service.public(session, [found] if found else []))
    rows = await catalogue.list_items(
        session, principal.tenant_id, decode_cursor(cursor, Code), limit
    )
    next_cursor = encode_cursor(rows[-1].sku) if len(rows) == limit else None
    return Page(items=await items_service.public(session, rows), next_cursor=next_cursor)


@router.post(
    "/warehouses",
    response_model=WarehousePublic,
    status_code=201,
    summary="Create a warehouse and its locations (a staging area `STAGE` unless one is given)",
)
async def create_warehouse(
    body: WarehouseCreate,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> WarehousePublic:
    async def create(ctx: OperationContext) -> WarehousePublic:
        row = await catalogue.create_warehouse(
            ctx.session, ctx.tenant_id, body.to_domain(), body.location_specs()
        )
        result = WarehousePublic.of(row)
        await ctx.record(result, WarehousePublic)
        return result

    caller = caller_for(principal, key, required=False)
    return await run_operation(
        resources.sessions, caller, "create_warehouse", body, WarehousePublic, create
    )


@router.get("/warehouses", response_model=Page[WarehousePublic], summary="Warehouses by code")
async def list_warehouses(principal: PrincipalDep, session: SessionDep) -> Page[WarehousePublic]:
    rows = await catalogue.list_warehouses(session, principal.tenant_id)
    return Page(items=[WarehousePublic.of(row) for row in rows])


@router.get("/warehouses/{code}", response_model=WarehousePublic, summary="One warehouse")
async def get_warehouse(
    code: WarehouseCode, principal: PrincipalDep, session: SessionDep
) -> WarehousePublic:
    catalogue_ = Catalogue(session, principal.tenant_id)
    return WarehousePublic.of(await catalogue_.warehouse(code, active_only=False))


@router.post(
    "/warehouses/{code}/locations",
    response_model=LocationPublic,
    status_code=201,
    summary="Create a location in a warehouse",
)
async def create_location(
    code: WarehouseCode,
    body: LocationCreate,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> LocationPublic:
    spec = body.to_domain(code)

    async def create(ctx: OperationContext) -> LocationPublic:
        row = await catalogue.create_location(ctx.session, ctx.tenant_id, spec)
        result = LocationPublic.of(row, body.parent_code)
        await ctx.record(result, LocationPublic)
        return result

    caller = caller_for(principal, key, required=False)
    return await run_operation(
        resources.sessions, caller, "create_location", spec, LocationPublic, create
    )


@router.get(
    "/warehouses/{code}/locations",
    response_model=Page[LocationPublic],
    summary="A warehouse's locations",
)
async def list_locations(
    code: WarehouseCode, principal: PrincipalDep, session: SessionDep
) -> Page[LocationPublic]:
    warehouse = await Catalogue(session, principal.tenant_id).warehouse(code, active_only=False)
    rows = await catalogue.list_locations(session, warehouse.id)
    return Page(items=[LocationPublic.of(location, parent) for location, parent in rows])
