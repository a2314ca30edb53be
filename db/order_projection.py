"""The order projection: the rows the order workflows keep of each order (lists,
wake-ups, the WMS's queue), and the events of each step written with them."""

from __future__ import annotations

import json
from dataclasses import asdict
from decimal import Decimal

from pydantic import TypeAdapter
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.orders import OrderInput, OrderView
from db.events import record_events
from db.models import Order, OrderLine
from db.order_events import PREVIOUS_FACTS, previous_facts, step_events
from db.stock.lookups import Catalogue

_VIEW = TypeAdapter(OrderView)


class OrderProjection:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(self, order: OrderInput, workflow_id: str) -> None:
        """The order and its lines as received (a repeat changes nothing)."""
        async with self._sessions() as session, session.begin():
            catalogue = Catalogue(session, order.tenant_id)
            items = {
                line.sku: await catalogue.item(line.sku, f"lines.{n}.sku")
                for n, line in enumerate(order.lines)
            }
            order_id = await session.scalar(
                insert(Order)
                .values(
                    tenant_id=order.tenant_id,
                    order_number=order.order_number,
                    workflow_id=workflow_id,
                    customer_id=order.customer_id,
                    currency=order.currency,
                    status="received",
                    fulfillment_policy=order.fulfillment_policy.value,
                    priority=order.priority,
                    allow_split=order.allow_split,
                    preferred_warehouse=order.preferred_warehouse,
                    payment_status=order.payment.status.value,
                    version=0,
                    view={},
                )
                .on_conflict_do_nothing(index_elements=[Order.tenant_id, Order.order_number])
                .returning(Order.id)
            )
            if order_id is None:
                return
            for line in order.lines:
                session.add(
                    OrderLine(
                        order_id=order_id,
                        line_id=line.line_id,
                        tenant_id=order.tenant_id,
                        item_id=items[line.sku].id,
                        ordered=line.quantity,
                        unit_price=Decimal(line.unit_price),
                        backordered=0,
                        shipped=0,
                        canceled=0,
                    )
                )

    async def update(self, view: OrderView) -> None:
        """Follow the workflow: a newer version replaces the rows, an older one is
        ignored. One statement: the order row decides, lines and requests follow it;
        the events of the step (none for an older or repeated version) are written
        with them."""
        lines = view.lines
        requests = [
            {"id": r.id, "warehouse": r.warehouse, "status": r.status, "view": asdict(r)}
            for r in view.fulfillment_requests
        ]
        async with self._sessions() as session, session.begin():
            replaced = await session.execute(
                _PROJECT,
                {
                    "status": view.status.value,
                    "payment": view.payment_status.value,
                    "version": view.version,
                    "ship_at": view.shipping.requested_ship_at if view.shipping else None,
                    "view": _VIEW.dump_json(view).decode(),
                    "t": view.tenant_id,
                    "n": view.order_number,
                    "wf": view.workflow_id,
                    "line_ids": [x.line_id for x in lines],
                    "b": [x.backordered for x in lines],
                    "s": [x.shipped for x in lines],
                    "c": [x.canceled for x in lines],
                    "requests": json.dumps(requests),
                },
            )
            previous = replaced.one_or_none()  # None: an older or repeated version
            if previous is not None:
                await record_events(session, step_events(view, previous_facts(*previous)))


# The order row moves only forward (version); its lines and fulfillment requests are
# written only with it. Lines are always written: a filter on their old values would
# read them from the statement's snapshot, taken before this statement waited for a
# concurrent older write's row lock, and could keep that older write's values.
# Requests are compared under ON CONFLICT, which sees the locked current row.
# The order row is locked first and what the step's events are decided on is read
# from it (the newest row, also after waiting for a concurrent write's lock).
_PROJECT = text(
    f"""
    WITH previous AS (
        SELECT o.id, {PREVIOUS_FACTS} FROM orders o
        WHERE o.tenant_id = :t AND o.order_number = :n FOR UPDATE
    ), o AS (
        UPDATE orders SET status = :status, payment_status = :payment, version = :version,
                          view = CAST(:view AS jsonb), updated_at = now(),
                          requested_ship_at = CAST(:ship_at AS timestamptz)
        FROM previous WHERE orders.id = previous.id AND orders.version < :version
        RETURNING orders.id, previous.previous_version, previous.previous_status,
                  previous.previous_requests, previous.previous_shipments
    ), lines AS (
        UPDATE order_lines l SET backordered = v.b, shipped = v.s, canceled = v.c
        FROM o, unnest(CAST(:line_ids AS text[]), CAST(:b AS bigint[]), CAST(:s AS bigint[]),
                       CAST(:c AS bigint[])) AS v(line_id, b, s, c)
        WHERE l.order_id = o.id AND l.line_id = v.line_id
    ), requests AS (
        INSERT INTO fulfillment_requests (id, tenant_id, order_id, workflow_id, warehouse,
                                          status, view)
        SELECT r.id, CAST(:t AS bigint), o.id, :wf, r.warehouse, r.status, r.view
        FROM o, jsonb_to_recordset(CAST(:requests AS jsonb))
                AS r(id text, warehouse text, status text, view jsonb)
        ON CONFLICT (tenant_id, id) DO UPDATE SET status = excluded.status, view = excluded.view
        WHERE (fulfillment_requests.status, fulfillment_requests.view)
              IS DISTINCT FROM (excluded.status, excluded.view)
    )
    SELECT previous_version, previous_status, previous_requests, previous_shipments FROM o
    """
)
