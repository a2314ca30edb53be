"""Between the API and the return workflows: claim and start, read, steps."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.common import (
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api.resources import Resources
from api.schemas.returns import (
    RefundPublic,
    ReturnCreate,
    ReturnLinePublic,
    ReturnPublic,
    ReturnReceipt,
)
from api.units import Units
from api.workflow_calls import read_state, unavailable, update_workflow
from contracts.returns import (
    ReceivedLineInput,
    ReceiveInput,
    ReturnInput,
    ReturnLineInput,
    ReturnLineView,
    ReturnView,
    return_workflow_id,
)
from db.models import Item, Order, OrderLine
from db.returns import open_return, projected_return
from db.tenants import Principal
from domain.errors import InvalidInput, NotFound
from domain.returns import ReturnStatus
from workflows import search_attributes
from workflows.returns.workflow import ReturnWorkflow


async def request_return(
    resources: Resources, tenant_id: int, order_number: str, body: ReturnCreate
) -> tuple[ReturnPublic, bool]:
    """Claim the quantities against the order (422 beyond shipped - returned), then
    start the return's workflow; (answer, created). A repeat of the same request
    answers with the existing return (and finishes a start a crash interrupted)."""
    workflow_id = return_workflow_id(tenant_id, body.rma_number)
    digest = hashlib.sha256(f"{order_number}\n{body.model_dump_json()}".encode()).hexdigest()
    async with resources.sessions() as session, session.begin():
        units, skus = await _order_units(session, tenant_id, order_number)
        requested = []
        for n, line in enumerate(body.lines):
            if line.line_id not in skus:
                raise InvalidInput(
                    f"order {order_number} has no line {line.line_id!r}", field=f"lines.{n}.line_id"
                )
            quantity = units.stock(skus[line.line_id], line.quantity, f"lines.{n}.quantity")
            requested.append((line.line_id, quantity))
        opened = await open_return(
            session,
            tenant_id,
            order_number,
            body.rma_number,
            body.reason,
            requested,
            digest,
            workflow_id,
        )
    window = resources.settings.return_window_days * 24 * 3600
    expires_at = datetime.now(UTC) + timedelta(seconds=window)
    data = ReturnInput(
        tenant_id=tenant_id,
        return_id=opened.return_id,
        rma_number=body.rma_number,
        order_number=opened.order_number,
        currency=opened.currency,
        reason=body.reason,
        lines=[
            ReturnLineInput(
                line_id=x.line_id,
                sku=x.sku,
                requested=x.requested,
                unit_price=x.unit_price,
                unit_size=units.of(x.sku).base_units_per_unit,
            )
            for x in opened.lines
        ],
        window_seconds=window,
        expires_at=expires_at.isoformat(),
        request_hash=digest,
    )
    client = await resources.temporal.get()
    attributes = search_attributes.pairs(
        search_attributes.for_return(
            tenant_id, body.rma_number, opened.order_number, ReturnStatus.REQUESTED.value
        )
    )
    try:
        await client.start_workflow(
            ReturnWorkflow.run,
            data,
            id=workflow_id,
            task_queue=resources.settings.temporal_task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(attributes),
            rpc_timeout=resources.temporal.rpc_timeout,
        )
    except WorkflowAlreadyStartedError:
        pass  # the return has ended: answer with it
    except RPCError as error:
        if opened.created:  # the claim stands; a repeat of this request starts it
            raise unavailable(error) from error
    if opened.created:
        view = ReturnView(
            tenant_id=tenant_id,
            rma_number=body.rma_number,
            order_number=opened.order_number,
            workflow_id=workflow_id,
            currency=opened.currency,
            reason=body.reason,
            status=ReturnStatus.REQUESTED,
            expires_at=expires_at.isoformat(),
            lines=[
                ReturnLineView(
                    line_id=x.line_id, sku=x.sku, requested=x.requested, unit_price=x.unit_price
                )
                for x in opened.lines
            ],
        )
        return return_public(view, units), True
    return await read_return(resources, tenant_id, body.rma_number), False


async def _order_units(
    session: AsyncSession, tenant_id: int, order_number: str
) -> tuple[Units, dict[str, str]]:
    """The units of an order's items, and each line's SKU."""
    rows = (
        await session.execute(
            select(OrderLine.line_id, Item.sku)
            .join(Order, Order.id == OrderLine.order_id)
            .join(Item, Item.id == OrderLine.item_id)
            .where(Order.tenant_id == tenant_id, Order.order_number == order_number)
        )
    ).all()
    if not rows:
        raise NotFound(f"order {order_number} does not exist", field="order_number")
    skus = {line_id: sku for line_id, sku in rows}
    return await Units.load_with(session, tenant_id, set(skus.values())), skus


async def read_return(resources: Resources, tenant_id: int, rma_number: str) -> ReturnPublic:
    view = await return_view(resources, tenant_id, rma_number)
    return return_public(
        view, await Units.load(resources.sessions, tenant_id, (x.sku for x in view.lines))
    )


async def return_view(resources: Resources, tenant_id: int, rma_number: str) -> ReturnView:
    """The return's state: live while it runs, from its projection once it ended."""
    async with resources.sessions() as session:
        projected = await projected_return(session, tenant_id, rma_number)
    view: ReturnView = await read_state(
        resources,
        return_workflow_id(tenant_id, rma_number),
        ReturnWorkflow.status,
        f"return {rma_number}",
        "rma_number",
        None if projected is None else RETURN_VIEW.validate_python(projected),
    )
    return view


RETURN_VIEW = TypeAdapter(ReturnView)  # a projected return's view (db/returns.py)


async def return_step(
    resources: Resources,
    tenant_id: int,
    rma_number: str,
    update: Any,
    arg: Any,
    key: str | None = None,
) -> ReturnPublic:
    """A step of the return; `key` (Idempotency-Key) makes a repeat answer the same."""
    view: ReturnView = await update_workflow(
        resources,
        return_workflow_id(tenant_id, rma_number),
        update,
        arg,
        ReturnWorkflow.status,
        f"return {rma_number}",
        "rma_number",
        key,
    )
    return return_public(
        view, await Units.load(resources.sessions, tenant_id, (x.sku for x in view.lines))
    )


async def receipt_input(
    resources: Resources, principal: Principal, rma_number: str, body: ReturnReceipt
) -> ReceiveInput:
    """The receipt in base units (the return names each line's SKU), confirmed by
    `principal` (the movements' actor)."""
    view = await return_view(resources, principal.tenant_id, rma_number)
    skus = {x.line_id: x.sku for x in view.lines}
    units = await Units.load(resources.sessions, principal.tenant_id, skus.values())
    lines = []
    for n, line in enumerate(body.lines):
        if line.line_id not in skus:
            raise InvalidInput(
                f"return {rma_number} has no line {line.line_id!r}", field=f"lines.{n}.line_id"
            )
        sku = skus[line.line_id]
        lines.append(
            ReceivedLineInput(
                line_id=line.line_id,
                received=units.stock(sku, line.received, f"lines.{n}.received"),
                accepted=units.stock(sku, line.accepted, f"lines.{n}.accepted"),
                disposition=line.disposition,
                lot=line.lot,
                serials=line.serials,
            )
        )
    return ReceiveInput(
        warehouse=body.warehouse, location=body.location, lines=lines, actor=principal.actor
    )


def return_public(view: ReturnView, units: Units) -> ReturnPublic:
    def d(sku: str, base: int) -> Decimal:
        return units.display(sku, base)

    refund = None
    if view.refund_amount is not None:
        refund = RefundPublic(
            amount=Decimal(view.refund_amount), currency=view.currency, reason=view.refund_reason
        )
    return ReturnPublic(
        rma_number=view.rma_number,
        order_number=view.order_number,
        workflow_id=view.workflow_id,
        status=view.status,
        reason=view.reason,
        decision_reason=view.decision_reason,
        expires_at=view.expires_at,
        warehouse=view.warehouse,
        location=view.location,
        refund=refund,
        lines=[
            ReturnLinePublic(
                line_id=x.line_id,
                sku=x.sku,
                unit_price=Decimal(x.unit_price),
                requested=d(x.sku, x.requested),
                received=d(x.sku, x.received),
                accepted=d(x.sku, x.accepted),
                rejected=d(x.sku, x.received - x.accepted),
                disposition=x.disposition,
                lot=x.lot,
                stock_lot=x.stock_lot,
            )
            for x in view.lines
        ],
    )
