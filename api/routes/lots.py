"""Lot control and recalls: hold a lot (or quarantine it) and release it; recall
lots (a workflow holds them, pulls them from open orders and reports every shipment
that carried them). Holds need an Idempotency-Key; a recall takes one to be repeatable."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query, Request, Response
from fastapi.responses import StreamingResponse

from api import lots_service as service
from api.deps import (
    IdempotencyKeyHeader,
    PrincipalDep,
    ResourcesDep,
    StockIdempotencyKeyHeader,
    WmsWriterDep,
    caller_for,
)
from api.problems import repeated
from api.routes.inventory import REPLAYED, post_lot_release
from api.routing import api_router
from api.schemas.common import Cursor, CursorId, Limit, Page, RowId, decode_cursor, encode_cursor
from api.schemas.inventory import LotReleaseCreate, LotReleasePublic
from api.schemas.lots import LotHoldCreate, LotHoldPublic, RecallCreate, RecallPublic
from api.units import Units
from db import recalls as db
from domain.stock import HoldLot

router = api_router(prefix="/v1", tags=["lots"])


@router.post(
    "/lots/hold",
    response_model=LotHoldPublic,
    status_code=201,
    summary="Put an available lot on hold or in quarantine everywhere; pull it from open"
    " allocations (404 unknown lot, 409 not available)",
)
async def post_lot_hold(
    body: LotHoldCreate,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    response: Response,
    key: StockIdempotencyKeyHeader = None,
) -> LotHoldPublic:
    """Its on-hand stock leaves `available` for `held` at every warehouse, in one
    transaction with the release of its allocations not yet picked; each order they
    belonged to is told and re-allocates from other lots, or waits as a backorder.
    Goods of the lot already picked stay with their orders (listed in `picked`)."""
    caller = caller_for(principal, key, required=True)
    units = await Units.load(resources.sessions, principal.tenant_id, [body.sku])
    command = HoldLot(sku=body.sku, lot=body.lot, reason=body.reason, status=body.status)
    held = await service.hold(resources, caller, command)
    if held.replayed:
        response.headers[REPLAYED] = "true"
    return service.hold_public(held, units)


@router.post(
    "/lots/release",
    response_model=LotReleasePublic,
    status_code=201,
    summary="Release a lot on hold or in quarantine (as POST /v1/inventory/lot-releases)",
)
async def post_lot_release_v1(
    body: LotReleaseCreate,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    response: Response,
    key: StockIdempotencyKeyHeader = None,
) -> LotReleasePublic:
    """Its on-hand stock becomes available at every warehouse; orders waiting for
    the item are woken."""
    return await post_lot_release(body, principal, resources, response, key)


@router.post(
    "/recalls",
    response_model=RecallPublic,
    status_code=201,
    summary="Recall lots of an item: hold them everywhere, pull them from open orders,"
    " report every shipment that carried them (200 for a repeat of the same key)",
    responses=repeated(RecallPublic, "recall as started"),
)
async def post_recall(
    body: RecallCreate,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    response: Response,
    key: IdempotencyKeyHeader = None,
) -> RecallPublic:
    caller = caller_for(principal, key, required=False)
    new = db.NewRecall(
        tenant_id=principal.tenant_id,
        sku=body.sku,
        lots=body.lots,
        reason=body.reason,
        idempotency_key=caller.idempotency_key,
        actor=principal.actor,
    )
    recall, created = await service.create_recall(resources, new)
    if not created:
        response.status_code = 200
    return recall


CSV = "text/csv"


@router.get(
    "/recalls/{recall_id}",
    response_model=RecallPublic,
    summary="A recall's report; its shipments as CSV with `?format=csv` or Accept: text/csv",
    responses={200: {"content": {CSV: {"schema": {"type": "string"}}}}},
)
async def get_recall(
    recall_id: RowId,
    principal: PrincipalDep,
    resources: ResourcesDep,
    request: Request,
    format: Literal["json", "csv"] | None = None,
) -> RecallPublic | StreamingResponse:
    data = await db.get_recall(resources.sessions, principal.tenant_id, recall_id)
    recall = await service.recall_public(resources, principal.tenant_id, data)
    if format == "csv" or (format is None and CSV in request.headers.get("accept", "")):
        name = f"recall-{recall_id}-shipments.csv"
        return StreamingResponse(
            service.shipments_csv(recall),
            media_type=f"{CSV}; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return recall


@router.get("/recalls", response_model=Page[RecallPublic], summary="Recalls, newest first")
async def get_recalls(
    principal: PrincipalDep,
    resources: ResourcesDep,
    cursor: Cursor | None = None,
    limit: Annotated[Limit, Query()] = 50,
) -> Page[RecallPublic]:
    before = decode_cursor(cursor, CursorId)
    rows = await db.list_recalls(
        resources.sessions, principal.tenant_id, before=before, limit=limit
    )
    items = [await service.recall_public(resources, principal.tenant_id, r) for r in rows]
    next_cursor = encode_cursor(rows[-1]["id"]) if len(rows) == limit else None
    return Page(items=items, next_cursor=next_cursor)
