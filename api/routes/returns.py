"""Returns (RMAs): OMS clients request, approve or reject and close; the warehouse
receives. Each step is an update of the return's workflow."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from api import returns_service as returns
from api.deps import (
    IdempotencyKeyHeader,
    OmsWriterDep,
    PrincipalDep,
    ResourcesDep,
    SessionDep,
    WmsWriterDep,
)
from api.problems import repeated
from api.routing import api_router
from api.schemas.common import Code, Cursor, CursorId, Limit, Page, decode_cursor, encode_cursor
from api.schemas.returns import DecisionBody, ReturnCreate, ReturnPublic, ReturnReceipt
from api.units import Units
from contracts.returns import CloseInput, DecisionInput
from db.returns import list_returns
from domain.returns import ReturnStatus
from workflows.returns.workflow import ReturnWorkflow

router = api_router(tags=["returns"])


@router.post(
    "/v1/orders/{order_number}/returns",
    response_model=ReturnPublic,
    status_code=201,
    summary="Request a return (422 beyond shipped minus returned; 200 for a repeat)",
    responses=repeated(ReturnPublic, "return in its current state"),
)
async def request_return(
    order_number: Code,
    body: ReturnCreate,
    principal: OmsWriterDep,
    resources: ResourcesDep,
    response: Response,
) -> ReturnPublic:
    answer, created = await returns.request_return(
        resources, principal.tenant_id, order_number, body
    )
    if not created:
        response.status_code = 200
    return answer


@router.get("/v1/returns/{rma_number}", response_model=ReturnPublic, summary="A return's state")
async def get_return(
    rma_number: Code, principal: PrincipalDep, resources: ResourcesDep
) -> ReturnPublic:
    return await returns.read_return(resources, principal.tenant_id, rma_number)


@router.get("/v1/returns", response_model=Page[ReturnPublic], summary="Returns, newest first")
async def get_returns(
    principal: PrincipalDep,
    session: SessionDep,
    status: ReturnStatus | None = None,
    order_number: Code | None = None,
    cursor: Cursor | None = None,
    limit: Annotated[Limit, Query()] = 100,
) -> Page[ReturnPublic]:
    rows = await list_returns(
        session,
        principal.tenant_id,
        status=status,
        order_number=order_number,
        before=decode_cursor(cursor, CursorId),
        limit=limit,
    )
    views = [(requested, returns.RETURN_VIEW.validate_python(view)) for _, requested, view in rows]
    units = await Units.load_with(
        session, principal.tenant_id, {x.sku for _, view in views for x in view.lines}
    )
    items = [
        returns.return_public(view, units).model_copy(update={"requested_at": requested})
        for requested, view in views
    ]
    next_cursor = encode_cursor(rows[-1][0]) if len(rows) == limit else None
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/v1/returns/{rma_number}/approve",
    response_model=ReturnPublic,
    summary="Approve a requested return",
)
async def approve_return(
    rma_number: Code,
    body: DecisionBody,
    principal: OmsWriterDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> ReturnPublic:
    return await returns.return_step(
        resources,
        principal.tenant_id,
        rma_number,
        ReturnWorkflow.approve,
        DecisionInput(reason=body.reason),
        key,
    )


@router.post(
    "/v1/returns/{rma_number}/reject",
    response_model=ReturnPublic,
    summary="Reject a requested return (a reason is required)",
)
async def reject_return(
    rma_number: Code,
    body: DecisionBody,
    principal: OmsWriterDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> ReturnPublic:
    return await returns.return_step(
        resources,
        principal.tenant_id,
        rma_number,
        ReturnWorkflow.reject,
        DecisionInput(reason=body.reason),
        key,
    )


@router.post(
    "/v1/returns/{rma_number}/receive",
    response_model=ReturnPublic,
    summary="The goods arrived: per line received, accepted and disposition",
)
async def receive_return(
    rma_number: Code,
    body: ReturnReceipt,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> ReturnPublic:
    receipt = await returns.receipt_input(resources, principal, rma_number, body)
    return await returns.return_step(
        resources, principal.tenant_id, rma_number, ReturnWorkflow.receive, receipt, key
    )


@router.post(
    "/v1/returns/{rma_number}/close",
    response_model=ReturnPublic,
    summary="Close a received return: the refund is recorded",
)
async def close_return(
    rma_number: Code,
    principal: OmsWriterDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> ReturnPublic:
    return await returns.return_step(
        resources, principal.tenant_id, rma_number, ReturnWorkflow.close, CloseInput(), key
    )
