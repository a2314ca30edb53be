"""Between the API and the purchase order workflows: create (also for callers that
build POs themselves, e.g. from reorder suggestions), read, run a step; display
units to base units and back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from api.resources import Resources
from api.schemas.purchasing import (
    PoLinePublic,
    PoReceiveLine,
    PoRescheduleLine,
    PurchaseOrderCreate,
    PurchaseOrderCreated,
    PurchaseOrderPublic,
)
from api.units import Units
from api.workflow_calls import read_state, request_hash, start_once, update_workflow
from contracts.purchasing import (
    PoLineInput,
    PoReceiveLineInput,
    PurchaseOrderInput,
    PurchaseOrderView,
    RescheduleLineInput,
    purchase_order_workflow_id,
)
from db.purchase_orders import purchase_order_view
from db.stock.purchasing import check_purchase_order
from domain.errors import InvalidInput, NotFound
from domain.purchasing import PurchaseOrderStatus, late_lines
from workflows import search_attributes
from workflows.purchase_order import PurchaseOrderWorkflow


async def create_purchase_order(
    resources: Resources, tenant_id: int, body: PurchaseOrderCreate, actor: str = ""
) -> tuple[PurchaseOrderCreated, bool]:
    """Start the PO's workflow; (answer, created). The same PO number with the same
    body answers with the PO as it is; with another body, 409. Bad input (an unknown
    or inactive SKU or warehouse, a quantity off the item's increment) is refused
    with 422 naming the field before anything starts."""
    try:
        units = await Units.load(resources.sessions, tenant_id, (x.sku for x in body.lines))
        lines = [
            PoLineInput(
                line_no=x.line_no or n + 1,
                sku=x.sku,
                quantity=units.stock(x.sku, x.quantity, f"lines.{n}.quantity", f"lines.{n}.sku"),
                expected_at=x.expected_at,
            )
            for n, x in enumerate(body.lines)
        ]
        digest = request_hash(body)
        order = PurchaseOrderInput(
            tenant_id=tenant_id,
            po_number=body.po_number,
            supplier=body.supplier,
            warehouse=body.warehouse,
            lines=lines,
            over_receipt_tolerance=str(resources.settings.po_over_receipt_tolerance),
            request_hash=digest,
            actor=actor,
        )
        async with resources.sessions() as session:
            await check_purchase_order(session, order)  # refused here: nothing starts
    except NotFound as error:  # a name in the body, not the resource asked for
        raise InvalidInput(error.detail, field=error.field) from error
    workflow_id = purchase_order_workflow_id(tenant_id, body.po_number)
    started = await start_once(
        resources,
        PurchaseOrderWorkflow.run,
        order,
        workflow_id,
        digest,
        search_attributes.for_purchase_order(order, PurchaseOrderStatus.OPEN),
        "po",
        body.po_number,
    )
    if started:
        created = PurchaseOrderCreated(
            po_number=body.po_number, status=PurchaseOrderStatus.OPEN, workflow_id=workflow_id
        )
        return created, True
    view = await purchase_order_state(resources, tenant_id, body.po_number)
    return PurchaseOrderCreated(
        po_number=view.po_number, status=view.status, workflow_id=workflow_id
    ), False


async def purchase_order_state(
    resources: Resources, tenant_id: int, po_number: str
) -> PurchaseOrderView:
    """The PO: from its tables once it ended, else live from its workflow."""
    async with resources.sessions() as session:
        recorded = await purchase_order_view(session, tenant_id, po_number)
    view: PurchaseOrderView = await read_state(
        resources,
        purchase_order_workflow_id(tenant_id, po_number),
        PurchaseOrderWorkflow.status,
        f"purchase order {po_number}",
        "po_number",
        recorded,
    )
    return view


async def run_step(
    resources: Resources, tenant_id: int, po_number: str, update: Any, arg: Any, key: str | None
) -> PurchaseOrderView:
    """A step of the PO's workflow; a refusal changed nothing (422 bad input, 409 a
    step against its state or beyond the over-receipt tolerance)."""
    view: PurchaseOrderView = await update_workflow(
        resources,
        purchase_order_workflow_id(tenant_id, po_number),
        update,
        arg,
        PurchaseOrderWorkflow.status,
        f"purchase order {po_number}",
        "po_number",
        key,
    )
    return view


def line_numbers(
    view: PurchaseOrderView, lines: Sequence[PoReceiveLine | PoRescheduleLine]
) -> list[int]:
    """The PO line each body line names (by line_no, or by sku when one line has it)."""
    numbers = []
    for n, x in enumerate(lines):
        if x.line_no is not None:
            if x.line_no not in {line.line_no for line in view.lines}:
                raise InvalidInput(f"the PO has no line {x.line_no}", field=f"lines.{n}.line_no")
            numbers.append(x.line_no)
            continue
        found = [line.line_no for line in view.lines if line.sku == x.sku]
        if len(found) != 1:
            how = "no line" if not found else "several lines; give line_no"
            raise InvalidInput(f"the PO has {how} for {x.sku!r}", field=f"lines.{n}.sku")
        numbers.append(found[0])
    return numbers


async def receipt_lines(
    resources: Resources, view: PurchaseOrderView, lines: Sequence[PoReceiveLine]
) -> list[PoReceiveLineInput]:
    numbers = line_numbers(view, lines)
    skus = {line.line_no: line.sku for line in view.lines}
    units = await Units.load(resources.sessions, view.tenant_id, skus.values())
    return [
        PoReceiveLineInput(
            line_no=no,
            sku=skus[no],
            quantity=units.stock(skus[no], x.quantity, f"lines.{n}.quantity"),
            lot=x.lot,
            expires_on=x.expires_at.isoformat() if x.expires_at else None,
            serials=list(x.serials),
        )
        for n, (no, x) in enumerate(zip(numbers, lines, strict=True))
    ]


def reschedule_lines(
    view: PurchaseOrderView, lines: Sequence[PoRescheduleLine]
) -> list[RescheduleLineInput]:
    numbers = line_numbers(view, lines)
    return [
        RescheduleLineInput(line_no=no, expected_at=x.expected_at)
        for no, x in zip(numbers, lines, strict=True)
    ]


def purchase_order_public(
    view: PurchaseOrderView, units: Units, now: datetime | None = None
) -> PurchaseOrderPublic:
    """The PO in display units; `late` as of `now` (default: the present)."""
    d = units.display
    books = view.books()
    late = set()
    if view.status is PurchaseOrderStatus.OPEN:
        late = {x.line_no for x in late_lines(books, now or datetime.now(UTC))}
    return PurchaseOrderPublic(
        po_number=view.po_number,
        workflow_id=view.workflow_id,
        supplier=view.supplier,
        warehouse=view.warehouse,
        status=view.status,
        late=bool(late),
        lines=[
            PoLinePublic(
                line_no=x.line_no,
                sku=x.sku,
                ordered=d(x.sku, x.ordered),
                received=d(x.sku, x.received),
                outstanding=d(
                    x.sku, x.outstanding if view.status is PurchaseOrderStatus.OPEN else 0
                ),
                expected_at=x.expected_at,
                late=x.line_no in late,
            )
            for x in books
        ],
        created_at=view.created_at,
        closed_at=view.closed_at,
        reason=view.reason,
    )
