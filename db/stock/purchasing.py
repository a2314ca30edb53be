"""Purchase orders' books: the PO and its lines, and the `incoming` they bring.

Each operation locks the PO's row first (the document row), then applies its
StockChange (stock levels in lock order), in one transaction:

    incoming at the PO's warehouse = sum over its open lines of max(ordered - received, 0)

record: the lines' quantities come in; receive: the existing receipt (on hand at a
location, ledger rows) with each line's `received` up and `incoming` down by what
the line still brought; close/cancel: what is outstanding leaves `incoming`.
`reconcile` checks the rule above together with the transfers'."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.purchasing import (
    ClosePurchaseOrderInput,
    PurchaseOrderInput,
    PurchaseOrderView,
    ReceivePurchaseOrderInput,
    ReschedulePurchaseOrderInput,
    purchase_order_workflow_id,
)
from db.events import record_events
from db.models import PurchaseOrder, Warehouse
from db.purchase_orders import purchase_order_view
from db.stock.change import Label, StockChange
from db.stock.lookups import Catalogue
from db.stock.on_hand import receive_lines
from db.stock.operation import Caller, OperationContext, adapter, run_operation
from domain.errors import Conflict, InvalidInput, NotFound
from domain.events import EventType, NewEvent
from domain.purchasing import (
    PoReceiptLine,
    PurchaseOrderClosed,
    PurchaseOrderStatus,
    check_expected_at,
    check_receipt,
    fully_received,
    released_by_receipt,
)
from domain.quantities import positive
from domain.stock import ReceiptLine, ReceiveStock

REFERENCE = "purchase_order"


@dataclass(frozen=True, kw_only=True)
class _Step:
    """A step of one PO as its idempotency key's request hash sees it."""

    po_number: str
    receipt: ReceivePurchaseOrderInput | None = None
    tolerance: str = ""
    close: ClosePurchaseOrderInput | None = None
    reschedule: ReschedulePurchaseOrderInput | None = None


async def check_purchase_order(session: AsyncSession, order: PurchaseOrderInput) -> Warehouse:
    """The PO's warehouse, or a refusal naming the field: an unknown or inactive
    warehouse, an unknown or inactive SKU, a quantity not above zero, a line number
    twice, an expected date without a time zone."""
    catalogue = Catalogue(session, order.tenant_id)
    warehouse = await catalogue.warehouse(order.warehouse, "warehouse")
    if not order.supplier.strip():
        raise InvalidInput("a supplier is required", field="supplier")
    if not order.lines:
        raise InvalidInput("a purchase order needs at least one line", field="lines")
    seen: set[int] = set()
    for n, line in enumerate(order.lines):
        item = await catalogue.item(line.sku, f"lines.{n}.sku")
        if not item.active:
            raise InvalidInput(f"item {line.sku!r} is inactive", field=f"lines.{n}.sku")
        positive(line.quantity, f"lines.{n}.quantity")
        check_expected_at(line.expected_at, f"lines.{n}.expected_at")
        if line.line_no in seen or line.line_no < 1:
            raise InvalidInput(
                f"line_no {line.line_no} is not a new positive number", field=f"lines.{n}.line_no"
            )
        seen.add(line.line_no)
    return warehouse


async def _locked(ctx: OperationContext, po_number: str) -> tuple[PurchaseOrder, PurchaseOrderView]:
    """The PO's row, locked (every change of a PO takes this lock first), and its view."""
    po = await ctx.session.scalar(
        select(PurchaseOrder)
        .where(PurchaseOrder.tenant_id == ctx.tenant_id, PurchaseOrder.po_number == po_number)
        .with_for_update()
    )
    if po is None:
        raise NotFound(f"purchase order {po_number} does not exist", field="po_number")
    view = await purchase_order_view(ctx.session, ctx.tenant_id, po_number)
    assert view is not None
    return po, view


def _open(po: PurchaseOrder) -> None:
    if po.status != PurchaseOrderStatus.OPEN:
        raise PurchaseOrderClosed(f"purchase order {po.po_number} is {po.status}", field="status")


def _event(type: EventType, view: PurchaseOrderView) -> NewEvent:
    data = adapter(PurchaseOrderView).dump_python(view, mode="json")
    return NewEvent(tenant_id=view.tenant_id, type=type, subject_id=view.po_number, data=data)


async def _item_ids(session: AsyncSession, po_id: int) -> dict[int, int]:
    rows = await session.execute(
        text("SELECT line_no, item_id FROM purchase_order_lines WHERE purchase_order_id = :p"),
        {"p": po_id},
    )
    return {int(r.line_no): int(r.item_id) for r in rows}


async def record_purchase_order(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, order: PurchaseOrderInput
) -> PurchaseOrderView:
    """The PO and its lines; each line's quantity comes into `incoming` at its
    warehouse. A repeat of the key replays the first answer."""

    async def body(ctx: OperationContext) -> PurchaseOrderView:
        warehouse = await check_purchase_order(ctx.session, order)
        po_id = await ctx.session.scalar(
            text(
                "INSERT INTO purchase_orders (tenant_id, po_number, supplier, warehouse_id, status,"
                " workflow_id) VALUES (:t, :n, :s, :w, 'open', :wf)"
                " ON CONFLICT (tenant_id, po_number) DO NOTHING RETURNING id"
            ),
            {
                "t": ctx.tenant_id,
                "n": order.po_number,
                "s": order.supplier,
                "w": warehouse.id,
                "wf": purchase_order_workflow_id(ctx.tenant_id, order.po_number),
            },
        )
        if po_id is None:
            raise Conflict(f"purchase order {order.po_number} exists", field="po_number")
        change = StockChange(ctx.tenant_id)
        for n, line in enumerate(order.lines):
            item = await ctx.catalogue.item(line.sku)
            await ctx.session.execute(
                text(
                    "INSERT INTO purchase_order_lines (purchase_order_id, line_no, tenant_id,"
                    " item_id, ordered, received, expected_at) VALUES (:p, :no, :t, :i, :q, 0, :e)"
                ),
                {
                    "p": po_id,
                    "no": line.line_no,
                    "t": ctx.tenant_id,
                    "i": item.id,
                    "q": line.quantity,
                    "e": line.expected_at,
                },
            )
            label = Label(n, item.sku, warehouse.code)
            change.level(warehouse.id, item.id, label).incoming += line.quantity
        view = await purchase_order_view(ctx.session, ctx.tenant_id, order.po_number)
        assert view is not None
        await record_events(ctx.session, [_event(EventType.PURCHASE_ORDER_CREATED, view)])
        await ctx.record(view, PurchaseOrderView)
        await change.apply(ctx.session)
        return view

    return await run_operation(
        sessions, caller, "record_purchase_order", order, PurchaseOrderView, body
    )


async def receive_purchase_order(
    sessions: async_sessionmaker[AsyncSession],
    caller: Caller,
    po_number: str,
    receipt: ReceivePurchaseOrderInput,
    tolerance: Decimal,
) -> PurchaseOrderView:
    """Goods of an open PO arrive at a location of its warehouse through the receipt
    operation; in the same transaction each line's `received` goes up and `incoming`
    down by what the line still brought. A line taken beyond the over-receipt
    tolerance refuses the whole receipt (naming every such line). The PO is
    `received` when no line has anything outstanding."""

    async def body(ctx: OperationContext) -> PurchaseOrderView:
        po, before = await _locked(ctx, po_number)
        _open(po)
        books = {line.line_no: line for line in before.books()}
        check_receipt(
            before.books(),
            [PoReceiptLine(line_no=x.line_no, quantity=x.quantity) for x in receipt.lines],
            tolerance,
        )
        command = ReceiveStock(
            before.warehouse,
            receipt.location,
            [
                ReceiptLine(
                    books[x.line_no].sku,
                    x.quantity,
                    x.lot,
                    date.fromisoformat(x.expires_on) if x.expires_on else None,
                    serials=list(x.serials),
                )
                for x in receipt.lines
            ],
            reference=po_number,
            reference_type=REFERENCE,
        )
        change = StockChange(ctx.tenant_id)
        await receive_lines(ctx, command, change)
        item_ids = await _item_ids(ctx.session, po.id)
        for n, x in enumerate(receipt.lines):
            line = books[x.line_no]
            label = Label(n, line.sku, before.warehouse)
            released = released_by_receipt(line, x.quantity)
            change.level(po.warehouse_id, item_ids[x.line_no], label).incoming -= released
            await ctx.session.execute(
                text(
                    "UPDATE purchase_order_lines SET received = received + :q"
                    " WHERE purchase_order_id = :p AND line_no = :no"
                ),
                {"q": x.quantity, "p": po.id, "no": x.line_no},
            )
        after = await purchase_order_view(ctx.session, ctx.tenant_id, po_number)
        assert after is not None
        events = [_event(EventType.PURCHASE_ORDER_RECEIVED, after)]
        if fully_received(after.books()):
            after = await _finish(ctx, po, PurchaseOrderStatus.RECEIVED, None)
            events.append(_event(EventType.PURCHASE_ORDER_CLOSED, after))
        await record_events(ctx.session, events)
        await ctx.record(after, PurchaseOrderView)
        await change.apply(ctx.session)
        return after

    command = _Step(po_number=po_number, receipt=receipt, tolerance=str(tolerance))
    return await run_operation(
        sessions, caller, "receive_purchase_order", command, PurchaseOrderView, body
    )


async def _finish(
    ctx: OperationContext, po: PurchaseOrder, status: PurchaseOrderStatus, reason: str | None
) -> PurchaseOrderView:
    await ctx.session.execute(
        text(
            "UPDATE purchase_orders SET status = :s, reason = :r, closed_at = now() WHERE id = :p"
        ),
        {"s": status.value, "r": reason, "p": po.id},
    )
    view = await purchase_order_view(ctx.session, ctx.tenant_id, po.po_number)
    assert view is not None
    return view


async def close_purchase_order(
    sessions: async_sessionmaker[AsyncSession],
    caller: Caller,
    po_number: str,
    close: ClosePurchaseOrderInput,
) -> PurchaseOrderView:
    """Close an open PO short (CLOSED) or cancel it (CANCELED: only while nothing was
    received): what its lines have outstanding leaves `incoming`."""

    async def body(ctx: OperationContext) -> PurchaseOrderView:
        if not close.reason.strip():
            raise InvalidInput("a reason is required", field="reason")
        po, before = await _locked(ctx, po_number)
        _open(po)
        if close.status is PurchaseOrderStatus.CANCELED and any(
            line.received for line in before.lines
        ):
            raise PurchaseOrderClosed(
                f"purchase order {po_number} has received goods: close it short instead",
                field="status",
            )
        item_ids = await _item_ids(ctx.session, po.id)
        change = StockChange(ctx.tenant_id)
        for n, line in enumerate(before.books()):
            label = Label(n, line.sku, before.warehouse)
            change.level(
                po.warehouse_id, item_ids[line.line_no], label
            ).incoming -= line.outstanding
        after = await _finish(ctx, po, close.status, close.reason.strip())
        await record_events(ctx.session, [_event(EventType.PURCHASE_ORDER_CLOSED, after)])
        await ctx.record(after, PurchaseOrderView)
        await change.apply(ctx.session)
        return after

    return await run_operation(
        sessions,
        caller,
        "close_purchase_order",
        _Step(po_number=po_number, close=close),
        PurchaseOrderView,
        body,
    )


async def reschedule_purchase_order(
    sessions: async_sessionmaker[AsyncSession],
    caller: Caller,
    po_number: str,
    reschedule: ReschedulePurchaseOrderInput,
) -> PurchaseOrderView:
    """Move open lines' expected dates (the supplier's new dates)."""

    async def body(ctx: OperationContext) -> PurchaseOrderView:
        po, before = await _locked(ctx, po_number)
        _open(po)
        known = {line.line_no for line in before.lines}
        if not reschedule.lines:
            raise InvalidInput("nothing to reschedule", field="lines")
        for n, line in enumerate(reschedule.lines):
            if line.line_no not in known:
                raise InvalidInput(f"the PO has no line {line.line_no}", field=f"lines.{n}")
            check_expected_at(line.expected_at, f"lines.{n}.expected_at")
            await ctx.session.execute(
                text(
                    "UPDATE purchase_order_lines SET expected_at = :e"
                    " WHERE purchase_order_id = :p AND line_no = :no"
                ),
                {"e": line.expected_at, "p": po.id, "no": line.line_no},
            )
        after = await purchase_order_view(ctx.session, ctx.tenant_id, po_number)
        assert after is not None
        await ctx.record(after, PurchaseOrderView)
        return after

    return await run_operation(
        sessions,
        caller,
        "reschedule_purchase_order",
        _Step(po_number=po_number, reschedule=reschedule),
        PurchaseOrderView,
        body,
    )
