"""Purchase orders (WMS): create, read, list, receive, reschedule, close short,
cancel. Each step is an update of the PO's workflow whose validator refuses a
wrong one before anything is recorded."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from api import purchasing_service as purchasing
from api.deps import (
    IdempotencyKeyHeader,
    PrincipalDep,
    ResourcesDep,
    SessionDep,
    StockIdempotencyKeyHeader,
    WmsWriterDep,
    caller_for,
)
from api.problems import repeated
from api.reorder_service import purchase_order_from_suggestions
from api.resources import Resources
from api.routing import api_router
from api.schemas.common import (
    Code,
    Cursor,
    CursorId,
    Identifier,
    Limit,
    Page,
    WarehouseCode,
    decode_cursor,
    encode_cursor,
)
from api.schemas.purchasing import (
    PurchaseOrderCloseBody,
    PurchaseOrderCreate,
    PurchaseOrderCreated,
    PurchaseOrderFromSuggestions,
    PurchaseOrderPatch,
    PurchaseOrderPublic,
    PurchaseOrderReceiveBody,
)
from api.units import Units
from contracts.purchasing import (
    ClosePurchaseOrderInput,
    PurchaseOrderView,
    ReceivePurchaseOrderInput,
    ReschedulePurchaseOrderInput,
)
from db.purchase_orders import list_purchase_orders
from db.tenants import Principal
from domain.purchasing import PurchaseOrderStatus
from workflows.purchase_order import PurchaseOrderWorkflow

router = api_router(prefix="/v1/purchase-orders", tags=["purchase orders"])


async def _public(resources: Resources, view: PurchaseOrderView) -> PurchaseOrderPublic:
    units = await Units.load(resources.sessions, view.tenant_id, (x.sku for x in view.lines))
    return purchasing.purchase_order_public(view, units)


@router.post(
    "",
    response_model=PurchaseOrderCreated,
    status_code=201,
    summary="Order goods from a supplier: its lines come into `incoming` at the warehouse "
    "(200 for a repeat of the same PO; 409 for other content)",
    responses=repeated(PurchaseOrderCreated, "purchase order as created"),
)
async def create_purchase_order(
    body: PurchaseOrderCreate, principal: WmsWriterDep, resources: ResourcesDep, response: Response
) -> PurchaseOrderCreated:
    created, new = await purchasing.create_purchase_order(
        resources, principal.tenant_id, body, principal.actor
    )
    if not new:
        response.status_code = 200
    return created


@router.post(
    "/from-suggestions",
    response_model=PurchaseOrderPublic,
    status_code=201,
    summary="Order what the reorder suggestions say, in one call: a line per suggested SKU "
    "(its suggested quantity, expected after its lead time) at the warehouse",
    description="The SKUs are `skus`, or every item whose default supplier is `supplier` "
    "with a suggestion above zero (GET /v1/replenishment/suggestions). A PO of that number "
    "that exists already is answered as it is (200): a retry does not order twice. 422 "
    "when there is nothing to order, naming `supplier` or the SKU in `skus`.",
    responses=repeated(PurchaseOrderPublic, "purchase order as it is"),
)
async def create_from_suggestions(
    body: PurchaseOrderFromSuggestions,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    response: Response,
) -> PurchaseOrderPublic:
    view, new = await purchase_order_from_suggestions(
        resources, principal.tenant_id, body, principal.actor
    )
    if not new:
        response.status_code = 200
    return await _public(resources, view)


@router.get("/{po_number}", response_model=PurchaseOrderPublic, summary="A purchase order")
async def get_purchase_order(
    po_number: Code, principal: PrincipalDep, resources: ResourcesDep
) -> PurchaseOrderPublic:
    view = await purchasing.purchase_order_state(resources, principal.tenant_id, po_number)
    return await _public(resources, view)


@router.get("", response_model=Page[PurchaseOrderPublic], summary="Purchase orders, newest first")
async def get_purchase_orders(
    principal: PrincipalDep,
    session: SessionDep,
    status: PurchaseOrderStatus | None = None,
    supplier: Identifier | None = None,
    warehouse: WarehouseCode | None = None,
    sku: Code | None = None,
    cursor: Cursor | None = None,
    limit: Annotated[Limit, Query()] = 100,
) -> Page[PurchaseOrderPublic]:
    rows = await list_purchase_orders(
        session,
        principal.tenant_id,
        status=status.value if status else None,
        supplier=supplier,
        warehouse=warehouse,
        sku=sku,
        before=decode_cursor(cursor, CursorId),
        limit=limit,
    )
    skus = {line.sku for _, view in rows for line in view.lines}
    units = await Units.load_with(session, principal.tenant_id, skus)
    items = [purchasing.purchase_order_public(view, units) for _, view in rows]
    next_cursor = encode_cursor(rows[-1][0]) if len(rows) == limit else None
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/{po_number}/receive",
    response_model=PurchaseOrderPublic,
    summary="Goods of the PO arrived at a location (partial receipts allowed; beyond the "
    "over-receipt tolerance refused with 409); wakes backordered orders",
)
async def receive_purchase_order(
    po_number: Code,
    body: PurchaseOrderReceiveBody,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    key: StockIdempotencyKeyHeader = None,
) -> PurchaseOrderPublic:
    caller_for(principal, key, required=True)  # a receipt retried without one counts twice
    view = await purchasing.purchase_order_state(resources, principal.tenant_id, po_number)
    receipt = ReceivePurchaseOrderInput(
        location=body.location,
        lines=await purchasing.receipt_lines(resources, view, body.lines),
        actor=principal.actor,
    )
    return await _step(resources, principal, po_number, PurchaseOrderWorkflow.receive, receipt, key)


@router.patch(
    "/{po_number}",
    response_model=PurchaseOrderPublic,
    summary="Reschedule lines to the supplier's new dates (the late alert follows)",
)
async def reschedule_purchase_order(
    po_number: Code,
    body: PurchaseOrderPatch,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> PurchaseOrderPublic:
    view = await purchasing.purchase_order_state(resources, principal.tenant_id, po_number)
    arg = ReschedulePurchaseOrderInput(
        lines=purchasing.reschedule_lines(view, body.lines), actor=principal.actor
    )
    return await _step(resources, principal, po_number, PurchaseOrderWorkflow.reschedule, arg, key)


@router.post(
    "/{po_number}/close",
    response_model=PurchaseOrderPublic,
    summary="Close short: what is outstanding no longer comes (leaves `incoming`)",
)
async def close_purchase_order(
    po_number: Code,
    body: PurchaseOrderCloseBody,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> PurchaseOrderPublic:
    arg = ClosePurchaseOrderInput(
        status=PurchaseOrderStatus.CLOSED, reason=body.reason, actor=principal.actor
    )
    return await _step(resources, principal, po_number, PurchaseOrderWorkflow.close, arg, key)


@router.post(
    "/{po_number}/cancel",
    response_model=PurchaseOrderPublic,
    summary="Cancel a PO nothing was received of (409 after a receipt: close it short)",
)
async def cancel_purchase_order(
    po_number: Code,
    body: PurchaseOrderCloseBody,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> PurchaseOrderPublic:
    arg = ClosePurchaseOrderInput(
        status=PurchaseOrderStatus.CANCELED, reason=body.reason, actor=principal.actor
    )
    return await _step(resources, principal, po_number, PurchaseOrderWorkflow.close, arg, key)


async def _step(
    resources: Resources,
    principal: Principal,
    po_number: str,
    update: object,
    arg: object,
    key: str | None,
) -> PurchaseOrderPublic:
    view = await purchasing.run_step(resources, principal.tenant_id, po_number, update, arg, key)
    return await _public(resources, view)
