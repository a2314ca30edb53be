"""Between the API and the order workflows: start, query, update; map Temporal's
answers to problems; convert base units to display units."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.service import RPCError

from api import shipping
from api.resources import Resources
from api.schemas.backorders import covered_by
from api.schemas.orders import (
    AllocationRef,
    LinePublic,
    OrderCreate,
    OrderCreated,
    OrderPublic,
    PackageLine,
    PackagePublic,
    RequestLinePublic,
    RequestPublic,
    ShipmentPublic,
)
from api.units import Units
from api.workflow_calls import read_state, request_hash, start_once, update_workflow
from contracts.order_events import shipping_of
from contracts.orders import (
    OrderInput,
    OrderLineInput,
    OrderView,
    PaymentInput,
    RequestView,
    ShipmentView,
    StockArrivedInput,
    order_workflow_id,
)
from contracts.shipping import PackageView, Shipping
from db.orders import projected_order, waiting_orders
from db.promise_dates import promise_rules, promises_by_line
from db.stock.lookups import Catalogue
from domain.orders import OrderStatus
from domain.promise_dates import NOT_COVERED, Promise
from workflows import search_attributes
from workflows.order.workflow import OrderWorkflow

log = logging.getLogger(__name__)


async def place_order(
    resources: Resources, tenant_id: int, body: OrderCreate
) -> tuple[OrderCreated, bool]:
    """Start the order's workflow; (answer, created). The same order number with the
    same body answers with the running order; with another body, 409."""
    units = await Units.load(resources.sessions, tenant_id, (line.sku for line in body.lines))
    lines = [
        OrderLineInput(
            line_id=line.line_id,
            sku=line.sku,
            quantity=units.demand(line.sku, line.quantity, f"lines.{n}.quantity", f"lines.{n}.sku"),
            unit_price=str(line.unit_price),
        )
        for n, line in enumerate(body.lines)
    ]
    if body.preferred_warehouse is not None:
        async with resources.sessions() as session:
            await Catalogue(session, tenant_id).warehouse(
                body.preferred_warehouse, "preferred_warehouse"
            )
    digest = request_hash(body)
    order = OrderInput(
        tenant_id=tenant_id,
        order_number=body.order_number,
        customer_id=body.customer_id,
        currency=body.currency,
        lines=lines,
        fulfillment_policy=body.fulfillment_policy,
        allow_split=body.allow_split,
        priority=body.priority,
        preferred_warehouse=body.preferred_warehouse,
        payment=PaymentInput(status=body.payment.status, ttl_seconds=body.payment.ttl_seconds),
        request_hash=digest,
        **shipping.wishes(body),
    )
    workflow_id = order_workflow_id(tenant_id, body.order_number)
    started = await start_once(
        resources,
        OrderWorkflow.run,
        order,
        workflow_id,
        digest,
        search_attributes.for_order(order, OrderStatus.RECEIVED),
        "order",
        body.order_number,
    )
    if started:
        return OrderCreated(
            order_number=body.order_number, status=OrderStatus.RECEIVED, workflow_id=workflow_id
        ), True
    view = await order_view(resources, tenant_id, body.order_number)
    return OrderCreated(
        order_number=view.order_number, status=view.status, workflow_id=workflow_id
    ), False


async def order_view(resources: Resources, tenant_id: int, order_number: str) -> OrderView:
    """The order's state: live while it runs, from its projection once it ended."""
    async with resources.sessions() as session:
        projected = await projected_order(session, tenant_id, order_number)
    view: OrderView = await read_state(
        resources,
        order_workflow_id(tenant_id, order_number),
        OrderWorkflow.status,
        f"order {order_number}",
        "order_number",
        projected,
    )
    return view


async def update_order(
    resources: Resources,
    tenant_id: int,
    order_number: str,
    update: Any,
    arg: Any,
    *,
    key: str | None = None,
) -> Any:
    """Run an update on the order's workflow; a refusal is a 409 that changed nothing.
    `key` (Idempotency-Key) makes a repeat answer the first outcome, not act again."""
    return await update_workflow(
        resources,
        order_workflow_id(tenant_id, order_number),
        update,
        arg,
        OrderWorkflow.status,
        f"order {order_number}",
        "order_number",
        key,
    )


async def wake_backorders(resources: Resources, tenant_id: int, skus: set[str]) -> None:
    """Stock arrived: signal waiting orders, highest priority then oldest first.
    Best effort: the receipt has committed whatever happens here (see the note on
    a durable wake-up in the README)."""
    try:
        client = await resources.temporal.get()
        waiting = await waiting_orders(resources.sessions, tenant_id, skus)
    except Exception:
        log.exception("could not look for backorders to wake")
        return
    for workflow_id in waiting:
        handle = client.get_workflow_handle(workflow_id)
        for sku in sorted(skus):
            try:
                await handle.signal(
                    OrderWorkflow.stock_arrived,
                    StockArrivedInput(sku=sku),
                    rpc_timeout=resources.temporal.rpc_timeout,
                )
            except RPCError:
                log.warning("could not wake %s for %s", workflow_id, sku)


async def line_promises(
    session: AsyncSession, resources: Resources, tenant_id: int, views: Iterable[OrderView]
) -> dict[tuple[str, str], Promise]:
    """The promise date of each backordered line of these orders, computed now."""
    skus = {line.sku for view in views for line in view.lines if line.backordered > 0}
    return await promises_by_line(
        session,
        tenant_id,
        skus,
        now=datetime.now(UTC),
        rules=promise_rules(resources.settings),
    )


# -- display units ---------------------------------------------------------------------


async def units_for_view(resources: Resources, tenant_id: int, view: OrderView) -> Units:
    return await Units.load(resources.sessions, tenant_id, (line.sku for line in view.lines))


def order_public(
    view: OrderView,
    units: Units,
    returned: dict[str, int] | None = None,
    promises: Mapping[tuple[str, str], Promise] | None = None,
) -> OrderPublic:
    """The order's state; `returned` (base units per line, from its returns) adds what
    came back after shipment, and a shipped order then reads (partially) returned;
    `promises` (by order number and line id) date its backordered lines."""

    def d(sku: str, base: int) -> Any:
        return units.display(sku, base)

    returned = returned or {}
    status = view.status
    if returned and status is OrderStatus.SHIPPED:
        back = all(returned.get(x.line_id, 0) >= x.shipped for x in view.lines if x.shipped)
        status = OrderStatus.RETURNED if back else OrderStatus.PARTIALLY_RETURNED

    skus = {line.line_id: line.sku for line in view.lines}
    ships = shipping_of(view)
    promises = promises or {}

    def promise(line_id: str, backordered: int) -> Promise:
        if backordered == 0:
            return NOT_COVERED
        return promises.get((view.order_number, line_id), NOT_COVERED)

    return OrderPublic(
        **shipping.public(ships),
        order_number=view.order_number,
        workflow_id=view.workflow_id,
        currency=view.currency,
        status=status,
        fulfillment_policy=view.fulfillment_policy,
        payment_status=view.payment_status,
        reservation_expires_at=view.reservation_expires_at,
        lines=[
            LinePublic(
                line_id=x.line_id,
                sku=x.sku,
                unit_price=x.unit_price,
                returned=d(x.sku, returned.get(x.line_id, 0)),
                expected_at=promise(x.line_id, x.backordered).expected_at,
                covered_by=covered_by(promise(x.line_id, x.backordered).covered_by),
                **{
                    k: d(x.sku, v)
                    for k, v in asdict(x).items()
                    if k not in ("line_id", "sku", "unit_price")
                },
            )
            for x in view.lines
        ],
        holds=[asdict(h) for h in view.holds],
        fulfillment_requests=[
            request_public(r, view.order_number, ships, units, skus)
            for r in view.fulfillment_requests
        ],
        shipments=[shipment_public(s, view.order_number, units, skus) for s in view.shipments],
        cancel_reason=view.cancel_reason,
    )


def shipment_public(
    s: ShipmentView, order_number: str, units: Units, skus: dict[str, str]
) -> ShipmentPublic:
    return ShipmentPublic(
        order_number=order_number,
        request_id=s.request_id,
        carrier=s.carrier,
        service_level=s.service_level,
        tracking_numbers=s.tracking_numbers,
        packages=[package_public(p, units, skus) for p in s.packages],
        shipped_at=s.shipped_at,
    )


def package_public(p: PackageView, units: Units, skus: dict[str, str]) -> PackagePublic:
    return PackagePublic(
        **shipping.measures_public(p),
        package_number=p.package_number,
        lines=[
            PackageLine(line_id=x.line_id, quantity=units.display(skus[x.line_id], x.quantity))
            for x in p.lines
        ],
    )


def request_public(
    r: RequestView,
    order_number: str,
    ships: Shipping,
    units: Units,
    skus: dict[str, str],
    created_at: datetime | None = None,
) -> RequestPublic:
    return RequestPublic(
        **shipping.public(ships),
        created_at=created_at,
        id=r.id,
        order_number=order_number,
        warehouse=r.warehouse,
        status=r.status,
        lines=[
            RequestLinePublic(
                line_id=x.line_id,
                sku=x.sku,
                quantity=units.display(x.sku, x.quantity),
                picked=units.display(x.sku, x.picked),
                packed=units.display(x.sku, x.packed),
                shipped=units.display(x.sku, x.shipped),
                allocations=[
                    AllocationRef(
                        location=a.location,
                        lot=a.lot,
                        serial=a.serial,
                        quantity=units.display(x.sku, a.quantity),
                        status=a.status,
                    )
                    for a in r.allocations
                    if a.line_id == x.line_id and a.quantity > 0
                ],
            )
            for x in r.lines
        ],
        packages=[package_public(p, units, skus) for p in r.packages],
    )
