"""Orders (OMS clients): place, read, list, cancel, hold, pay, extend."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response
from pydantic import AwareDatetime

from api import orders_service as orders
from api.deps import IdempotencyKeyHeader, OmsWriterDep, PrincipalDep, ResourcesDep, SessionDep
from api.problems import repeated
from api.routing import api_router
from api.schemas.common import (
    Code,
    Cursor,
    CursorId,
    Identifier,
    Limit,
    Page,
    decode_cursor,
    encode_cursor,
)
from api.schemas.orders import (
    CancelBody,
    ExtensionBody,
    ExtensionPublic,
    HoldBody,
    HoldPublic,
    ListedOrderPublic,
    OrderCreate,
    OrderCreated,
    OrderPublic,
    PaymentAuthorizationBody,
)
from api.units import Units
from contracts.orders import (
    AuthorizePaymentInput,
    CancelInput,
    ExtendReservationInput,
    HoldInput,
    ReleaseHoldInput,
)
from db.orders import list_orders
from db.returns import returned_by_line
from domain.errors import InvalidInput
from domain.orders import OrderStatus
from workflows.order.workflow import OrderWorkflow

router = api_router(prefix="/v1/orders", tags=["orders"])


@router.post(
    "",
    response_model=OrderCreated,
    status_code=201,
    summary="Place an order (200 for a repeat of the same order; 409 for other content)",
    responses=repeated(OrderCreated, "order as placed"),
)
async def place_order(
    body: OrderCreate, principal: OmsWriterDep, resources: ResourcesDep, response: Response
) -> OrderCreated:
    created, new = await orders.place_order(resources, principal.tenant_id, body)
    if not new:
        response.status_code = 200
    return created


async def _public(resources: ResourcesDep, tenant_id: int, order_number: str) -> OrderPublic:
    view = await orders.order_view(resources, tenant_id, order_number)
    async with resources.sessions() as session:
        returned = await returned_by_line(session, tenant_id, [order_number])
        promises = await orders.line_promises(session, resources, tenant_id, [view])
    return orders.order_public(
        view,
        await orders.units_for_view(resources, tenant_id, view),
        returned.get(order_number),
        promises,
    )


@router.get("/{order_number}", response_model=OrderPublic, summary="An order's live state")
async def get_order(
    order_number: Code, principal: PrincipalDep, resources: ResourcesDep
) -> OrderPublic:
    return await _public(resources, principal.tenant_id, order_number)


CreatedFrom = Annotated[
    AwareDatetime | None, Query(description="placed at or after this time (RFC 3339)")
]
CreatedTo = Annotated[
    AwareDatetime | None,
    Query(description="placed before this time (RFC 3339); after `created_from`"),
]


@router.get(
    "",
    response_model=Page[ListedOrderPublic],
    summary="Orders, newest first (422 for a created_to not after created_from)",
)
async def get_orders(
    principal: PrincipalDep,
    session: SessionDep,
    resources: ResourcesDep,
    status: OrderStatus | None = None,
    customer_id: Identifier | None = None,
    created_from: CreatedFrom = None,
    created_to: CreatedTo = None,
    cursor: Cursor | None = None,
    limit: Annotated[Limit, Query()] = 100,
) -> Page[ListedOrderPublic]:
    if created_from is not None and created_to is not None and created_to <= created_from:
        raise InvalidInput("created_to must be after created_from", field="created_to")
    rows = await list_orders(
        session,
        principal.tenant_id,
        status=status,
        customer_id=customer_id,
        created_from=created_from,
        created_to=created_to,
        before=decode_cursor(cursor, CursorId),
        limit=limit,
    )
    views = [row.view for row in rows]
    skus = {line.sku for view in views for line in view.lines}
    units = await Units.load_with(session, principal.tenant_id, skus)
    returned = await returned_by_line(session, principal.tenant_id, [v.order_number for v in views])
    promises = await orders.line_promises(session, resources, principal.tenant_id, views)
    items = [
        ListedOrderPublic(
            **orders.order_public(
                row.view, units, returned.get(row.view.order_number), promises
            ).model_dump(),
            created_at=row.created_at,
        )
        for row in rows
    ]
    next_cursor = encode_cursor(rows[-1].row_id) if len(rows) == limit else None
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/{order_number}/cancel",
    response_model=OrderPublic,
    summary="Cancel what has not shipped (409 once all has shipped)",
)
async def cancel_order(
    order_number: Code,
    body: CancelBody,
    principal: OmsWriterDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> OrderPublic:
    view = await orders.update_order(
        resources,
        principal.tenant_id,
        order_number,
        OrderWorkflow.cancel,
        CancelInput(reason=body.reason),
        key=key,
    )
    return orders.order_public(
        view, await orders.units_for_view(resources, principal.tenant_id, view)
    )


@router.post(
    "/{order_number}/holds",
    response_model=HoldPublic,
    status_code=201,
    summary="Put a hold on an order: it stops where it is (409 to a step it blocks) until released",
)
async def add_hold(
    order_number: Code,
    body: HoldBody,
    principal: OmsWriterDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> HoldPublic:
    hold = await orders.update_order(
        resources,
        principal.tenant_id,
        order_number,
        OrderWorkflow.add_hold,
        HoldInput(code=body.code, reason=body.reason, blocks=body.blocks),
        key=key,
    )
    return HoldPublic.model_validate(hold, from_attributes=True)


@router.post(
    "/{order_number}/holds/{hold_id}/release",
    response_model=HoldPublic,
    summary="Release a hold; with none left the order goes on where it was",
)
async def release_hold(
    order_number: Code,
    hold_id: Identifier,
    principal: OmsWriterDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> HoldPublic:
    hold = await orders.update_order(
        resources,
        principal.tenant_id,
        order_number,
        OrderWorkflow.release_hold,
        ReleaseHoldInput(hold_id=hold_id),
        key=key,
    )
    return HoldPublic.model_validate(hold, from_attributes=True)


@router.post(
    "/{order_number}/payment-authorization",
    response_model=OrderPublic,
    summary="Payment is authorized: the order goes on to allocation",
)
async def authorize_payment(
    order_number: Code,
    body: PaymentAuthorizationBody,
    principal: OmsWriterDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> OrderPublic:
    view = await orders.update_order(
        resources,
        principal.tenant_id,
        order_number,
        OrderWorkflow.authorize_payment,
        AuthorizePaymentInput(amount=str(body.amount), reference=body.reference),
        key=key,
    )
    return orders.order_public(
        view, await orders.units_for_view(resources, principal.tenant_id, view)
    )


@router.post(
    "/{order_number}/reservation-extension",
    response_model=ExtensionPublic,
    summary="Push the unpaid reservation's deadline",
)
async def extend_reservation(
    order_number: Code,
    body: ExtensionBody,
    principal: OmsWriterDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> ExtensionPublic:
    result = await orders.update_order(
        resources,
        principal.tenant_id,
        order_number,
        OrderWorkflow.extend_reservation,
        ExtendReservationInput(seconds=body.seconds),
        key=key,
    )
    return ExtensionPublic(expires_at=result.expires_at)
