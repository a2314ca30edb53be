"""Between the API and lot holds and recalls: hold a lot and tell the orders it was
pulled from; create a recall and start its workflow; show a recall (display units,
the affected orders as they are now) and its shipments as CSV."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.service import RPCError, RPCStatusCode

from api.problems import unavailable as unavailable_problem
from api.resources import Resources
from api.schemas.lots import (
    LotHoldPublic,
    PulledPublic,
    RecallOrder,
    RecallPublic,
    RecallShipment,
)
from api.units import Units
from api.workflow_calls import start_once
from contracts.events import StoredEvent
from contracts.orders import StockPulledInput, order_workflow_id
from contracts.recalls import RecallInput
from db import recalls as db
from db.stock.lot_holds import hold_lot
from db.stock.operation import Caller
from domain.stock import HoldLot, LotHeld, PulledStock, pulled_orders
from workflows import search_attributes
from workflows.order.workflow import OrderWorkflow
from workflows.recall import RecallWorkflow

log = logging.getLogger(__name__)

CSV_COLUMNS = (
    "order_number",
    "customer_id",
    "ship_to",
    "lot",
    "quantity",
    "shipped_at",
    "warehouse",
)


async def hold(resources: Resources, caller: Caller, command: HoldLot) -> LotHeld:
    """Hold the lot (one transaction), then signal each order it was pulled from. A
    repeat with the same Idempotency-Key replays the result and signals again (an
    order ignores allocations it already gave back)."""
    held = await hold_lot(resources.sessions, caller, command)
    await tell_orders(resources, caller.tenant_id, held.pulled, held.lot)
    return held


async def tell_orders(
    resources: Resources, tenant_id: int, pulled: list[PulledStock], lot: str
) -> None:
    """Tell every order (the hold has committed). An order not told would keep a
    request whose pick of the pulled stock is refused, so a signal that fails is a
    503 asking for the request again with the same Idempotency-Key: the hold replays
    and the orders are told again (an order ignores allocations it gave back). An
    order whose run has ended needs no telling."""
    orders = pulled_orders(pulled)
    if not orders:
        return
    client = await resources.temporal.get()
    untold = []
    for number, ids in sorted(orders.items()):
        handle = client.get_workflow_handle(order_workflow_id(tenant_id, number))
        try:
            await handle.signal(
                OrderWorkflow.stock_pulled,
                StockPulledInput(allocation_ids=ids, lot=lot),
                rpc_timeout=resources.temporal.rpc_timeout,
            )
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                continue
            log.warning("could not tell order %s that lot %s was pulled", number, lot)
            untold.append(number)
    if untold:
        raise unavailable_problem(
            f"lot {lot} is held, but orders {', '.join(untold)} could not be told: repeat the"
            " request with the same Idempotency-Key to tell them"
        )


def hold_public(held: LotHeld, units: Units) -> LotHoldPublic:
    def one(p: PulledStock) -> PulledPublic:
        number = next(iter(pulled_orders([p])), None)
        return PulledPublic(
            allocation_id=p.allocation_id,
            warehouse=p.warehouse,
            quantity=units.display(held.sku, p.quantity),
            order_number=number,
        )

    return LotHoldPublic(
        sku=held.sku,
        lot=held.lot,
        status=held.status,
        previous_status=held.previous_status,
        held={code: units.display(held.sku, q) for code, q in held.held.items()},
        pulled=[one(p) for p in held.pulled],
    )


async def create_recall(resources: Resources, new: db.NewRecall) -> tuple[RecallPublic, bool]:
    """The recall row (checked, with its `recall.started` event), then its workflow;
    a repeat of the key answers the first recall (and starts its workflow if the
    first attempt could not)."""
    data, created = await db.create_recall(resources.sessions, new)
    recall = RecallInput(
        tenant_id=new.tenant_id,
        recall_id=data["id"],
        sku=data["sku"],
        lots=data["lots"],
        reason=data["reason"],
        actor=new.actor,
    )
    await start_once(
        resources,
        RecallWorkflow.run,
        recall,
        data["workflow_id"],
        str(data["id"]),
        search_attributes.for_recall(new.tenant_id, data["id"]),
        "recall",
        str(data["id"]),
    )
    return await recall_public(resources, new.tenant_id, data), created


async def recall_public(resources: Resources, tenant_id: int, data: dict[str, Any]) -> RecallPublic:
    """The recall with its report in display units, and each affected order as it is
    now (its status, the lots its open allocations hold)."""
    units = await Units.load(resources.sessions, tenant_id, [data["sku"]])
    pulled = (data.get("report") or {}).get("pulled", {})
    states = await db.order_states(resources.sessions, tenant_id, sorted(pulled))
    return recall_shown(data, units, states)


async def render_recall(sessions: async_sessionmaker[AsyncSession], event: StoredEvent) -> Any:
    """A recall event's `data`: the recall as GET /v1/recalls/{id} shows it, as it was
    when the event occurred (the orders' later states are not part of it)."""
    units = await Units.load(sessions, event.tenant_id, [event.data["sku"]])
    return recall_shown(dict(event.data), units, {}).model_dump(mode="json")


def recall_shown(
    data: dict[str, Any], units: Units, states: dict[str, tuple[str, list[str]]]
) -> RecallPublic:
    sku = data["sku"]
    report = data.get("report") or {}
    pulled: dict[str, int] = report.get("pulled", {})
    return RecallPublic(
        id=data["id"],
        sku=sku,
        lots=data["lots"],
        reason=data["reason"],
        status=data["status"],
        workflow_id=data["workflow_id"],
        actor=data["actor"],
        held={
            lot: {code: units.display(sku, q) for code, q in where.items()}
            for lot, where in report.get("held", {}).items()
        },
        orders=[
            RecallOrder(
                order_number=number,
                pulled=units.display(sku, quantity),
                status=states.get(number, (None, []))[0],
                lots=states.get(number, (None, []))[1],
            )
            for number, quantity in sorted(pulled.items())
        ],
        not_held=report.get("not_held", {}),
        shipments=[
            RecallShipment(**{**s, "quantity": units.display(sku, s["quantity"])})
            for s in report.get("shipments", [])
        ],
        created_at=data["created_at"],
        completed_at=data["completed_at"],
    )


def shipments_csv(recall: RecallPublic) -> Iterator[str]:
    """The recall's shipments, a header then one row per shipment."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for s in recall.shipments:
        address = ", ".join(str(v) for v in (s.ship_to or {}).values() if v)
        writer.writerow(
            (
                s.order_number,
                s.customer_id or "",
                address,
                s.lot,
                s.quantity,
                s.shipped_at,
                s.warehouse,
            )
        )
    yield buffer.getvalue()
