"""The order projection: the rows the order workflows keep of each order (lists,
wake-ups, the WMS's queue), and the events of each step written with them."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.orders import OrderInput, OrderView
from db.call_pool import Connection, in_transaction
from db.events import write_events
from db.order_events import PREVIOUS_FACTS, previous_facts, step_events
from domain.errors import NotFound

_VIEW = TypeAdapter(OrderView)


class OrderProjection:
    """Each write is one short transaction straight through psycopg (a call-pool
    connection, or the engine's when the pool cannot serve: db/call_pool.py); its
    errors are psycopg's, which db/refusals.py tells apart as it does SQLAlchemy's."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._engine = sessions.kw["bind"]

    async def record(self, order: OrderInput, workflow_id: str) -> None:
        """The order and its lines as received (a repeat changes nothing)."""
        await in_transaction(self._engine, lambda conn: _record(conn, order, workflow_id))

    async def update(self, view: OrderView) -> None:
        """Follow the workflow: a newer version replaces the rows, an older one is
        ignored. One statement: the order row decides, lines and requests follow it;
        the events of the step (none for an older or repeated version) are written
        with them, in its transaction."""
        await self.update_steps([view])

    async def update_steps(self, views: Sequence[OrderView]) -> None:
        """Several views of consecutive steps, in their order, in one transaction:
        each written as `update` writes it (the same rows, the same events), and
        nothing of them visible before all are."""
        steps = [(view, _project_params(view)) for view in views]
        await in_transaction(self._engine, lambda conn: _update_all(conn, steps))


async def _record(conn: Connection, order: OrderInput, workflow_id: str) -> None:
    found = await conn.execute(
        _ITEMS, {"t": order.tenant_id, "skus": [x.sku for x in order.lines]}, prepare=True
    )
    items: dict[str, int] = dict(await found.fetchall())
    for n, line in enumerate(order.lines):
        if line.sku not in items:
            raise NotFound(f"item {line.sku!r} does not exist", field=f"lines.{n}.sku")
    await conn.execute(
        _RECORD,
        {
            "t": order.tenant_id,
            "n": order.order_number,
            "wf": workflow_id,
            "customer": order.customer_id,
            "currency": order.currency,
            "policy": order.fulfillment_policy.value,
            "priority": order.priority,
            "split": order.allow_split,
            "warehouse": order.preferred_warehouse,
            "payment": order.payment.status.value,
            "line_ids": [x.line_id for x in order.lines],
            "items": [items[x.sku] for x in order.lines],
            "ordered": [x.quantity for x in order.lines],
            "prices": [Decimal(x.unit_price) for x in order.lines],
        },
        prepare=True,
    )


def _project_params(view: OrderView) -> dict[str, Any]:
    lines = view.lines
    return {
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
    }


async def _update_all(conn: Connection, steps: list[tuple[OrderView, dict[str, Any]]]) -> None:
    for view, params in steps:
        replaced = await conn.execute(_PROJECT, params, prepare=True)
        previous = await replaced.fetchone()  # None: an older or repeated version
        if previous is not None:
            await write_events(conn, step_events(view, previous_facts(*previous)))


_ITEMS = "SELECT sku, id FROM items WHERE tenant_id = %(t)s AND sku = ANY(%(skus)s)"

# The order row, and its lines only when the row is new (a repeat finds it and
# writes nothing): one statement, so no transaction is half done.
_RECORD = """
    WITH o AS (
        INSERT INTO orders (tenant_id, order_number, workflow_id, customer_id, currency,
                            status, fulfillment_policy, priority, allow_split,
                            preferred_warehouse, payment_status, version, view)
        VALUES (%(t)s, %(n)s, %(wf)s, %(customer)s, %(currency)s, 'received', %(policy)s,
                %(priority)s, %(split)s, %(warehouse)s, %(payment)s, 0, CAST('{}' AS jsonb))
        ON CONFLICT (tenant_id, order_number) DO NOTHING
        RETURNING id
    )
    INSERT INTO order_lines (order_id, line_id, tenant_id, item_id, ordered, unit_price,
                             backordered, shipped, canceled, returned)
    SELECT o.id, v.line_id, CAST(%(t)s AS bigint), v.item_id, v.ordered, v.unit_price,
           0, 0, 0, 0
    FROM o, unnest(CAST(%(line_ids)s AS text[]), CAST(%(items)s AS bigint[]),
                   CAST(%(ordered)s AS bigint[]), CAST(%(prices)s AS numeric[]))
            AS v(line_id, item_id, ordered, unit_price)
"""

# The order row moves only forward (version); its lines and fulfillment requests are
# written only with it. Lines are always written: a filter on their old values would
# read them from the statement's snapshot, taken before this statement waited for a
# concurrent older write's row lock, and could keep that older write's values.
# Requests are compared under ON CONFLICT, which sees the locked current row; each
# one's row keeps its part of the view (no second serialization of it here).
# The order row is locked first and what the step's events are decided on is read
# from it (the newest row, also after waiting for a concurrent write's lock).
_PROJECT = f"""
    WITH previous AS (
        SELECT o.id, {PREVIOUS_FACTS} FROM orders o
        WHERE o.tenant_id = %(t)s AND o.order_number = %(n)s FOR UPDATE
    ), o AS (
        UPDATE orders SET status = %(status)s, payment_status = %(payment)s,
                          version = %(version)s, view = CAST(%(view)s AS jsonb), updated_at = now(),
                          requested_ship_at = CAST(%(ship_at)s AS timestamptz)
        FROM previous WHERE orders.id = previous.id AND orders.version < %(version)s
        RETURNING orders.id, previous.previous_version, previous.previous_status,
                  previous.previous_requests, previous.previous_shipments
    ), lines AS (
        UPDATE order_lines l SET backordered = v.b, shipped = v.s, canceled = v.c
        FROM o, unnest(CAST(%(line_ids)s AS text[]), CAST(%(b)s AS bigint[]),
                       CAST(%(s)s AS bigint[]), CAST(%(c)s AS bigint[])) AS v(line_id, b, s, c)
        WHERE l.order_id = o.id AND l.line_id = v.line_id
    ), requests AS (
        INSERT INTO fulfillment_requests (id, tenant_id, order_id, workflow_id, warehouse,
                                          status, view)
        SELECT r ->> 'id', CAST(%(t)s AS bigint), o.id, %(wf)s, r ->> 'warehouse',
               r ->> 'status', r
        FROM o, jsonb_array_elements(CAST(%(view)s AS jsonb) -> 'fulfillment_requests') AS r
        ON CONFLICT (tenant_id, id) DO UPDATE SET status = excluded.status, view = excluded.view
        WHERE (fulfillment_requests.status, fulfillment_requests.view)
              IS DISTINCT FROM (excluded.status, excluded.view)
    )
    SELECT previous_version, previous_status, previous_requests, previous_shipments FROM o
    """
