"""Between the API and the transfer workflows: start, query, update; map Temporal's
answers to problems; convert display units to base units and back."""

from __future__ import annotations

from typing import Any

from api.resources import Resources
from api.schemas.transfers import (
    InFlightPublic,
    ReceiptLinePublic,
    ReceiptPublic,
    TransferCreate,
    TransferCreated,
    TransferLinePublic,
    TransferPublic,
    TransferReceiveBody,
)
from api.units import Units
from api.workflow_calls import read_state, request_hash, start_once, update_workflow
from contracts.transfers import (
    ReceiveLineInput,
    ReceiveTransferInput,
    TransferInput,
    TransferLineInput,
    TransferView,
    transfer_workflow_id,
)
from db.tenants import Principal
from db.transfers import check_transfer, projected_transfer
from domain.transfers import TransferStatus
from workflows import search_attributes
from workflows.transfer.workflow import TransferWorkflow


# A refusal's ApplicationError type -> HTTP status (anything else: 409).
async def create_transfer(
    resources: Resources, tenant_id: int, body: TransferCreate
) -> tuple[TransferCreated, bool]:
    """Start the transfer's workflow; (answer, created). The same number with the
    same body answers with the running transfer; with another body, 409."""
    units = await Units.load(resources.sessions, tenant_id, (line.sku for line in body.lines))
    lines = [
        TransferLineInput(
            sku=line.sku,
            quantity=units.stock(line.sku, line.quantity, f"lines.{n}.quantity", f"lines.{n}.sku"),
            lot=line.lot,
        )
        for n, line in enumerate(body.lines)
    ]
    digest = request_hash(body)
    transfer = TransferInput(
        tenant_id=tenant_id,
        transfer_number=body.transfer_number,
        from_warehouse=body.from_warehouse,
        to_warehouse=body.to_warehouse,
        lines=lines,
        alert_after_seconds=resources.settings.transfer_alert_after_seconds,
        request_hash=digest,
    )
    async with resources.sessions() as session:
        await check_transfer(session, transfer)  # refused here: nothing is started
    workflow_id = transfer_workflow_id(tenant_id, body.transfer_number)
    started = await start_once(
        resources,
        TransferWorkflow.run,
        transfer,
        workflow_id,
        digest,
        search_attributes.for_transfer(transfer, TransferStatus.REQUESTED),
        "transfer",
        body.transfer_number,
    )
    if started:
        created = TransferCreated(
            transfer_number=body.transfer_number,
            status=TransferStatus.REQUESTED,
            workflow_id=workflow_id,
        )
        return created, True
    view = await transfer_view(resources, tenant_id, body.transfer_number)
    return TransferCreated(
        transfer_number=view.transfer_number, status=view.status, workflow_id=workflow_id
    ), False


async def transfer_view(resources: Resources, tenant_id: int, number: str) -> TransferView:
    """The transfer's state: live while it runs, from its projection once it ended."""
    async with resources.sessions() as session:
        projected = await projected_transfer(session, tenant_id, number)
    view: TransferView = await read_state(
        resources,
        transfer_workflow_id(tenant_id, number),
        TransferWorkflow.status,
        f"transfer {number}",
        "transfer_number",
        projected,
    )
    return view


async def update_transfer(
    resources: Resources,
    tenant_id: int,
    number: str,
    update: Any,
    arg: Any,
    key: str | None = None,
) -> TransferView:
    """Run an update on the transfer's workflow. A refusal changed nothing: 422 for
    bad input, 409 for a step out of order. `key` (the Idempotency-Key) is the
    update's id: a repeat answers with the first outcome and does nothing again."""
    view: TransferView = await update_workflow(
        resources,
        transfer_workflow_id(tenant_id, number),
        update,
        arg,
        TransferWorkflow.status,
        f"transfer {number}",
        "transfer_number",
        key,
    )
    return view


# -- display units ---------------------------------------------------------------------


async def receipt_input(
    resources: Resources, principal: Principal, body: TransferReceiveBody
) -> ReceiveTransferInput:
    """The receipt in base units, confirmed by `principal` (the movements' actor)."""
    skus = (line.sku for line in body.lines)
    units = await Units.load(resources.sessions, principal.tenant_id, skus)
    lines = [
        ReceiveLineInput(
            sku=line.sku,
            received=units.stock(line.sku, line.received, f"lines.{n}.received", f"lines.{n}.sku"),
            lot=line.lot,
            reason=line.reason,
            serials=line.serials,
        )
        for n, line in enumerate(body.lines)
    ]
    return ReceiveTransferInput(location=body.location, lines=lines, actor=principal.actor)


async def units_for_view(resources: Resources, tenant_id: int, view: TransferView) -> Units:
    return await Units.load(resources.sessions, tenant_id, (line.sku for line in view.lines))


def transfer_public(view: TransferView, units: Units) -> TransferPublic:
    d = units.display
    return TransferPublic(
        transfer_number=view.transfer_number,
        workflow_id=view.workflow_id,
        from_warehouse=view.from_warehouse,
        to_warehouse=view.to_warehouse,
        status=view.status,
        lines=[
            TransferLinePublic(
                sku=x.sku, lot=x.lot, quantity=d(x.sku, x.quantity), reserved=d(x.sku, x.reserved)
            )
            for x in view.lines
        ],
        stock=[
            InFlightPublic(
                sku=s.sku,
                lot=s.lot,
                shipped=d(s.sku, s.shipped),
                received=d(s.sku, s.received),
                written_off=d(s.sku, s.written_off),
                outstanding=d(s.sku, s.outstanding),
            )
            for s in view.stock
        ],
        receipts=[
            ReceiptPublic(
                location=r.location,
                received_at=r.received_at,
                lines=[
                    ReceiptLinePublic(
                        sku=x.sku, lot=x.lot, received=d(x.sku, x.received), reason=x.reason
                    )
                    for x in r.lines
                ],
            )
            for r in view.receipts
        ],
        carrier=view.carrier,
        tracking_number=view.tracking_number,
        shipped_at=view.shipped_at,
        alert_at=view.alert_at,
        alerted=view.alerted,
        reason=view.reason,
    )
