"""Warehouse confirmations (WMS): the queue of fulfillment requests and the
accept / pick / pack / ship steps, each an update of the order's workflow whose
validator refuses bad confirmations before anything is recorded."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from fastapi.encoders import jsonable_encoder
from pydantic import AwareDatetime

from api import orders_service as orders
from api import shipping
from api.deps import (
    IdempotencyKeyHeader,
    PrincipalDep,
    ReadSessionDep,
    ResourcesDep,
    WmsWriterDep,
)
from api.resources import Resources
from api.routing import api_router
from api.schemas.common import (
    Code,
    Cursor,
    Identifier,
    Keyword,
    Limit,
    Page,
    WarehouseCode,
    decode_cursor,
    encode_cursor,
)
from api.schemas.orders import OrderPublic, PackBody, PickBody, RequestPublic, ShipBody
from api.units import Units
from contracts.orders import (
    PackInput,
    PickInput,
    PickLineInput,
    RequestInput,
    ShipInput,
)
from contracts.shipping import PackageInput, PackageLineInput
from db.orders import QueuedRequest, QueuePosition, RequestOrder, find_request, list_requests
from domain.errors import InvalidInput
from workflows.order.workflow import OrderWorkflow

router = api_router(prefix="/v1/fulfillment-requests", tags=["fulfillment"])


@router.get("", response_model=Page[RequestPublic], summary="Fulfillment requests to work on")
async def get_requests(
    principal: PrincipalDep,
    session: ReadSessionDep,
    warehouse: WarehouseCode | None = None,
    status: Annotated[
        Keyword | None,
        Query(
            description="one status (requested, accepted, picked, packed, shipped, canceled), "
            "or `open`: every request not yet shipped or canceled"
        ),
    ] = None,
    order_number: Code | None = None,
    max_priority: Annotated[
        int | None, Query(ge=0, le=1_000_000, description="orders of this priority or higher")
    ] = None,
    ship_before: Annotated[
        AwareDatetime | None,
        Query(description="requested to ship at or before this time (none asked: left out)"),
    ] = None,
    sort: Annotated[
        RequestOrder,
        Query(
            description="`created_at`: oldest first; `priority`: lowest number first, then "
            "earliest requested ship time; `requested_ship_at`: earliest first (none last), "
            "then priority. Ties: oldest first."
        ),
    ] = RequestOrder.CREATED_AT,
    cursor: Cursor | None = None,
    limit: Annotated[Limit, Query()] = 100,
) -> Page[RequestPublic]:
    rows = await list_requests(
        session,
        principal.tenant_id,
        warehouse=warehouse,
        status=status,
        order_number=order_number,
        max_priority=max_priority,
        ship_before=ship_before,
        sort=sort,
        after=decode_cursor(cursor, QueuePosition),
        limit=limit + 1,
    )
    page, more = rows[:limit], len(rows) > limit
    units = await Units.load_with(
        session, principal.tenant_id, {line.sku for q in page for line in q.request.lines}
    )
    return Page(
        items=[_request_public(q, units) for q in page],
        next_cursor=encode_cursor(jsonable_encoder(page[-1].position)) if more else None,
    )


def _request_public(queued: QueuedRequest, units: Units) -> RequestPublic:
    r = queued.request
    skus = {x.line_id: x.sku for x in r.lines}
    return orders.request_public(
        r, queued.order_number, queued.shipping, units, skus, created_at=queued.created_at
    )


@router.get("/{request_id}", response_model=RequestPublic, summary="One fulfillment request")
async def get_request(
    request_id: Identifier, principal: PrincipalDep, resources: ResourcesDep
) -> RequestPublic:
    queued = await find_request(resources.sessions, principal.tenant_id, request_id)
    skus = {x.sku for x in queued.request.lines}
    return _request_public(queued, await Units.load(resources.sessions, principal.tenant_id, skus))


async def _confirm(
    resources: Resources,
    tenant_id: int,
    order_number: str,
    update: Any,
    arg: Any,
    key: str | None,
) -> OrderPublic:
    view = await orders.update_order(resources, tenant_id, order_number, update, arg, key=key)
    return orders.order_public(view, await orders.units_for_view(resources, tenant_id, view))


async def _request_units(
    resources: Resources, tenant_id: int, request_id: str
) -> tuple[str, Units, dict[str, str]]:
    """The request's order number (404 if not this tenant's), the units of its SKUs
    and each line's SKU (for display conversion)."""
    queued = await find_request(resources.sessions, tenant_id, request_id)
    skus = {line.line_id: line.sku for line in queued.request.lines}
    units = await Units.load(resources.sessions, tenant_id, skus.values())
    return queued.order_number, units, skus


def _line_sku(skus: dict[str, str], line_id: str, field: str) -> str:
    if line_id not in skus:
        raise InvalidInput(f"line {line_id!r} is not in this request", field=field)
    return skus[line_id]


@router.post(
    "/{request_id}/accept", response_model=OrderPublic, summary="The warehouse takes the request"
)
async def accept(
    request_id: Identifier,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> OrderPublic:
    number = (await find_request(resources.sessions, principal.tenant_id, request_id)).order_number
    return await _confirm(
        resources,
        principal.tenant_id,
        number,
        OrderWorkflow.accept,
        RequestInput(request_id=request_id),
        key,
    )


@router.post(
    "/{request_id}/pick",
    response_model=OrderPublic,
    summary="Confirm what was picked; less than allocated is a short pick",
)
async def pick(
    request_id: Identifier,
    body: PickBody,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> OrderPublic:
    number, units, skus = await _request_units(resources, principal.tenant_id, request_id)
    lines = []
    for n, line in enumerate(body.lines):
        sku = _line_sku(skus, line.line_id, f"lines.{n}.line_id")
        quantity = units.stock(sku, line.quantity, f"lines.{n}.quantity")
        lines.append(
            PickLineInput(
                line_id=line.line_id,
                quantity=quantity,
                lot=line.lot,
                location=line.location,
                serials=line.serials,
            )
        )
    return await _confirm(
        resources,
        principal.tenant_id,
        number,
        OrderWorkflow.pick,
        PickInput(request_id=request_id, lines=lines, actor=principal.actor),
        key,
    )


@router.post(
    "/{request_id}/pack",
    response_model=OrderPublic,
    summary="Record the packages; they hold exactly what was picked",
)
async def pack(
    request_id: Identifier,
    body: PackBody,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> OrderPublic:
    number, units, skus = await _request_units(resources, principal.tenant_id, request_id)
    packages = []
    for n, package in enumerate(body.packages):
        lines = []
        for m, line in enumerate(package.lines):
            field = f"packages.{n}.lines.{m}"
            sku = _line_sku(skus, line.line_id, f"{field}.line_id")
            lines.append(
                PackageLineInput(
                    line_id=line.line_id,
                    quantity=units.stock(sku, line.quantity, f"{field}.quantity"),
                )
            )
        packages.append(
            PackageInput(
                package_number=package.package_number,
                lines=lines,
                **shipping.measures(package),
            )
        )
    return await _confirm(
        resources,
        principal.tenant_id,
        number,
        OrderWorkflow.pack,
        PackInput(request_id=request_id, packages=packages),
        key,
    )


@router.post(
    "/{request_id}/ship",
    response_model=OrderPublic,
    summary="The packages left: stock is consumed, the shipment recorded",
)
async def ship(
    request_id: Identifier,
    body: ShipBody,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> OrderPublic:
    queued = await find_request(resources.sessions, principal.tenant_id, request_id)
    return await _confirm(
        resources,
        principal.tenant_id,
        queued.order_number,
        OrderWorkflow.ship,
        ShipInput(
            request_id=request_id,
            carrier=body.carrier,
            service_level=body.service_level,
            tracking_numbers=body.tracking_numbers,
            actor=principal.actor,
            packages=shipping.tracking(body, queued.request),
        ),
        key,
    )
