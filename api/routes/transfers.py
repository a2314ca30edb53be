"""Stock transfers between warehouses (WMS): request, read, list, ship, receive,
cancel. Each step is an update of the transfer's workflow whose validator refuses
a wrong one before anything is recorded."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from api import transfers_service as transfers
from api.deps import IdempotencyKeyHeader, PrincipalDep, ResourcesDep, SessionDep, WmsWriterDep
from api.problems import repeated
from api.resources import Resources
from api.routing import api_router
from api.schemas.common import (
    Code,
    Cursor,
    CursorId,
    Limit,
    Page,
    WarehouseCode,
    decode_cursor,
    encode_cursor,
)
from api.schemas.transfers import (
    TransferCancelBody,
    TransferCreate,
    TransferCreated,
    TransferPublic,
    TransferReceiveBody,
    TransferShipBody,
)
from api.units import Units
from contracts.transfers import CancelTransferInput, ShipTransferInput, TransferView
from db.transfers import list_transfers
from domain.transfers import TransferStatus
from workflows.transfer.workflow import TransferWorkflow

router = api_router(prefix="/v1/transfers", tags=["transfers"])


async def _public(resources: Resources, tenant_id: int, view: TransferView) -> TransferPublic:
    units = await transfers.units_for_view(resources, tenant_id, view)
    return transfers.transfer_public(view, units)


@router.post(
    "",
    response_model=TransferCreated,
    status_code=201,
    summary="Request a transfer: stock is reserved at the source "
    "(200 for a repeat of the same transfer; 409 for other content)",
    responses=repeated(TransferCreated, "transfer as requested"),
)
async def create_transfer(
    body: TransferCreate, principal: WmsWriterDep, resources: ResourcesDep, response: Response
) -> TransferCreated:
    created, new = await transfers.create_transfer(resources, principal.tenant_id, body)
    if not new:
        response.status_code = 200
    return created


@router.get("/{transfer_number}", response_model=TransferPublic, summary="A transfer's live state")
async def get_transfer(
    transfer_number: Code, principal: PrincipalDep, resources: ResourcesDep
) -> TransferPublic:
    view = await transfers.transfer_view(resources, principal.tenant_id, transfer_number)
    return await _public(resources, principal.tenant_id, view)


@router.get("", response_model=Page[TransferPublic], summary="Transfers, newest first")
async def get_transfers(
    principal: PrincipalDep,
    session: SessionDep,
    status: TransferStatus | None = None,
    from_warehouse: WarehouseCode | None = None,
    to_warehouse: WarehouseCode | None = None,
    cursor: Cursor | None = None,
    limit: Annotated[Limit, Query()] = 100,
) -> Page[TransferPublic]:
    rows = await list_transfers(
        session,
        principal.tenant_id,
        status=status,
        from_warehouse=from_warehouse,
        to_warehouse=to_warehouse,
        before=decode_cursor(cursor, CursorId),
        limit=limit,
    )
    skus = {line.sku for _, _, view in rows for line in view.lines}
    units = await Units.load_with(session, principal.tenant_id, skus)
    items = [
        transfers.transfer_public(view, units).model_copy(update={"requested_at": requested})
        for _, requested, view in rows
    ]
    next_cursor = encode_cursor(rows[-1][0]) if len(rows) == limit else None
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/{transfer_number}/ship",
    response_model=TransferPublic,
    summary="The goods left the source: stock moves out, in transit "
    "(409 if not reserved or already shipped)",
)
async def ship_transfer(
    transfer_number: Code,
    body: TransferShipBody,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> TransferPublic:
    view = await transfers.update_transfer(
        resources,
        principal.tenant_id,
        transfer_number,
        TransferWorkflow.ship,
        ShipTransferInput(
            carrier=body.carrier, tracking_number=body.tracking_number, actor=principal.actor
        ),
        key,
    )
    return await _public(resources, principal.tenant_id, view)


@router.post(
    "/{transfer_number}/receive",
    response_model=TransferPublic,
    summary="Goods arrived at a destination location; partial receipts allowed, "
    "a reason writes the rest of a line off",
)
async def receive_transfer(
    transfer_number: Code,
    body: TransferReceiveBody,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    key: IdempotencyKeyHeader = None,
) -> TransferPublic:
    receipt = await transfers.receipt_input(resources, principal, body)
    view = await transfers.update_transfer(
        resources, principal.tenant_id, transfer_number, TransferWorkflow.receive, receipt, key
    )
    return await _public(resources, principal.tenant_id, view)


@router.post(
    "/{transfer_number}/cancel",
    response_model=TransferPublic,
    summary="Cancel before shipping: the reservation is released (409 once shipped)",
)
async def cancel_transfer(
    transfer_number: Code,
    principal: WmsWriterDep,
    resources: ResourcesDep,
    body: TransferCancelBody | None = None,
) -> TransferPublic:
    reason = body.reason if body else None
    view = await transfers.update_transfer(
        resources,
        principal.tenant_id,
        transfer_number,
        TransferWorkflow.cancel,
        CancelTransferInput(reason=reason),
    )
    return await _public(resources, principal.tenant_id, view)
