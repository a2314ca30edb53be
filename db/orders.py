"""Order queries: lists, wake-ups and the WMS's queue from the projection the order
workflows keep (db/order_projection.py), and the stock figures their reservations are
planned on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    Select,
    String,
    bindparam,
    func,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg as psycopg_dialect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from contracts.orders import OrderView, RequestView
from contracts.shipping import Shipping
from db.call_reads import read
from db.models import FulfillmentRequestRow, Order
from db.stock.availability import LevelStock, expired_unmarked_stock
from db.stock.candidates import candidates, free_stock
from domain.allocation import WarehouseStock, can_wake_backorders
from domain.errors import NotFound
from domain.orders import RequestStatus

_VIEW = TypeAdapter(OrderView)


async def reservable(
    sessions: async_sessionmaker[AsyncSession], tenant_id: int, sku: str
) -> list[WarehouseStock]:
    """What each active warehouse could promise of a SKU now."""
    async with sessions() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT w.id, w.code, w.priority, s.item_id, s.on_hand, s.reserved,"
                    " s.allocated, s.held"
                    " FROM stock_levels s JOIN warehouses w ON w.id = s.warehouse_id"
                    " JOIN items i ON i.id = s.item_id"
                    " WHERE i.tenant_id = :t AND i.sku = :sku AND w.active"
                ),
                {"t": tenant_id, "sku": sku},
            )
        ).all()
        pairs = [(r.id, r.item_id) for r in rows]
        expired = await expired_unmarked_stock(session, pairs, datetime.now(UTC).date())
    return [
        WarehouseStock(
            int(r.id),
            r.code,
            int(r.priority),
            LevelStock(
                on_hand=r.on_hand,
                reserved=r.reserved,
                allocated=r.allocated,
                held=r.held + expired[(r.id, r.item_id)],
            ).available,
        )
        for r in rows
    ]


async def waiting_orders(
    sessions: async_sessionmaker[AsyncSession], tenant_id: int, skus: set[str]
) -> list[str]:
    """Workflow ids of orders with backordered lines of these SKUs: highest priority
    (lowest number) first, then oldest."""
    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT o.workflow_id, min(o.priority) AS priority, min(o.id) AS age"
                " FROM order_lines l JOIN orders o ON o.id = l.order_id"
                " JOIN items i ON i.id = l.item_id"
                " WHERE o.tenant_id = :t AND i.sku = ANY(:skus) AND l.backordered > 0"
                " GROUP BY o.workflow_id ORDER BY 2, 3"
            ),
            {"t": tenant_id, "skus": sorted(skus)},
        )
        return [row[0] for row in rows]


async def projected_order(
    session: AsyncSession, tenant_id: int, order_number: str
) -> OrderView | None:
    """The order as its workflow last projected it (None before its first publish)."""
    view = await session.scalar(
        select(Order.view).where(
            Order.tenant_id == tenant_id, Order.order_number == order_number, Order.version > 0
        )
    )
    return None if view is None else _VIEW.validate_python(view)


@dataclass(frozen=True, kw_only=True)
class ListedOrder:
    """An order in a list: its row id (the cursor), when it was placed, its last view."""

    row_id: int
    created_at: datetime
    view: OrderView


async def list_orders(
    session: AsyncSession,
    tenant_id: int,
    *,
    status: str | None,
    customer_id: str | None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    before: int | None,
    limit: int,
) -> list[ListedOrder]:
    """A tenant's orders, newest first; placed in [`created_from`, `created_to`) when given."""
    query = select(Order.id, Order.created_at, Order.view).where(
        Order.tenant_id == tenant_id, Order.version > 0
    )
    if status is not None:
        query = query.where(Order.status == status)
    if customer_id is not None:
        query = query.where(Order.customer_id == customer_id)
    if created_from is not None:
        query = query.where(Order.created_at >= created_from)
    if created_to is not None:
        query = query.where(Order.created_at < created_to)
    if before is not None:
        query = query.where(Order.id < before)
    rows = await session.execute(query.order_by(Order.id.desc()).limit(limit))
    return [
        ListedOrder(row_id=row_id, created_at=created_at, view=_VIEW.validate_python(view))
        for row_id, created_at, view in rows
    ]


_REQUEST = TypeAdapter(RequestView)
_SHIPPING = TypeAdapter(Shipping)


class RequestOrder(StrEnum):
    """How the WMS's queue is sorted (each then oldest first)."""

    CREATED_AT = "created_at"
    PRIORITY = "priority"  # lower goes first, then the earliest requested ship time
    REQUESTED_SHIP_AT = "requested_ship_at"  # earliest first (none last), then priority


# A request's place in the queue: (priority, requested ship time, created, id).
QueuePosition = tuple[int, datetime | None, datetime, str]

_KeyPart = ColumnElement[Any] | InstrumentedAttribute[Any]  # a column or a cursor's value
_NEVER = text("'infinity'::timestamptz")  # no requested ship time: after every time


def _sort_key(
    sort: RequestOrder,
    priority: _KeyPart,
    ship_at: _KeyPart,
    created_at: _KeyPart,
    request_id: _KeyPart,
) -> tuple[_KeyPart, ...]:
    """What a sort orders by, the columns' or a cursor's values: one tuple, so the
    ORDER BY and the next page's WHERE cannot disagree."""
    ship = func.coalesce(ship_at, _NEVER)
    lead = {
        RequestOrder.CREATED_AT: (),
        RequestOrder.PRIORITY: (priority, ship),
        RequestOrder.REQUESTED_SHIP_AT: (ship, priority),
    }[sort]
    return (*lead, created_at, request_id)


@dataclass(frozen=True, kw_only=True)
class QueuedRequest:
    """A fulfillment request as last projected, with its order's number and what the
    warehouse needs to ship it."""

    order_number: str
    request: RequestView
    shipping: Shipping
    created_at: datetime
    position: QueuePosition


def _queued_requests() -> Select[Any]:
    return select(
        Order.order_number,
        FulfillmentRequestRow.view,
        Order.customer_id,
        Order.priority,
        Order.view["shipping"],
        Order.requested_ship_at,
        FulfillmentRequestRow.created_at,
        FulfillmentRequestRow.id,
    ).join(Order, Order.id == FulfillmentRequestRow.order_id)


def _queued(row: Sequence[Any]) -> QueuedRequest:
    number, view, customer_id, priority, shipping, ship_at, created_at, request_id = tuple(row)
    return QueuedRequest(
        order_number=number,
        request=_REQUEST.validate_python(view),
        # orders last projected before shipping was: what the row itself knows
        shipping=_SHIPPING.validate_python(shipping)
        if shipping is not None
        else Shipping(customer_id=customer_id, priority=priority),
        created_at=created_at,
        position=(priority, ship_at, created_at, request_id),
    )


async def request_created_at(
    session: AsyncSession, tenant_id: int, request_id: str
) -> datetime | None:
    """When the warehouse got this request (None: no such request of the tenant)."""
    query = select(FulfillmentRequestRow.created_at).where(
        FulfillmentRequestRow.tenant_id == tenant_id, FulfillmentRequestRow.id == request_id
    )
    created_at: datetime | None = await session.scalar(query)
    return created_at


OPEN_REQUESTS = "open"  # a status filter: every request not yet shipped or canceled
WAITING_REQUEST_STATUSES = tuple(s.value for s in RequestStatus if not s.is_final)


async def list_requests(
    session: AsyncSession,
    tenant_id: int,
    *,
    warehouse: str | None,
    status: str | None,
    order_number: str | None = None,
    max_priority: int | None = None,
    ship_before: datetime | None = None,
    sort: RequestOrder = RequestOrder.CREATED_AT,
    after: QueuePosition | None = None,
    limit: int,
) -> list[QueuedRequest]:
    """A tenant's fulfillment requests, in `sort` order, then oldest first; `after`
    one's position (the last of the previous page). One statement, built once per
    process for each combination of filters (a WMS polls this often)."""
    open_only = status == OPEN_REQUESTS
    given = {
        "warehouse": warehouse,
        "status": list(WAITING_REQUEST_STATUSES) if open_only else status,
        "order_number": order_number,
        "max_priority": max_priority,
        "ship_before": ship_before,
    }
    values: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
    query = _queue_query(sort, frozenset(values), open_only=open_only, paged=after is not None)
    values |= {"tenant_id": tenant_id, "limit": limit}
    if after is not None:
        values |= dict(zip(_AFTER, after, strict=True))
    return [_queued(row) for row in await session.execute(query, values)]


_FILTERS = ("warehouse", "status", "order_number", "max_priority", "ship_before")
_AFTER = ("after_priority", "after_ship_at", "after_created_at", "after_id")


@cache
def _queue_query(
    sort: RequestOrder, filters: frozenset[str], *, open_only: bool, paged: bool
) -> Select[Any]:
    """The queue's statement for these filters, with its values as bound parameters."""
    conditions: dict[str, ColumnElement[bool]] = {
        "warehouse": FulfillmentRequestRow.warehouse == bindparam("warehouse"),
        "status": FulfillmentRequestRow.status.in_(bindparam("status", expanding=True))
        if open_only
        else FulfillmentRequestRow.status == bindparam("status"),
        "order_number": Order.order_number == bindparam("order_number"),
        "max_priority": Order.priority <= bindparam("max_priority"),
        "ship_before": Order.requested_ship_at
        <= bindparam("ship_before", type_=DateTime(timezone=True)),
    }
    query = _queued_requests().where(FulfillmentRequestRow.tenant_id == bindparam("tenant_id"))
    for name in _FILTERS:
        if name in filters:
            query = query.where(conditions[name])
    columns = (
        Order.priority,
        Order.requested_ship_at,
        FulfillmentRequestRow.created_at,
        FulfillmentRequestRow.id,
    )
    if paged:
        stamp = DateTime(timezone=True)
        cursor = (
            bindparam("after_priority", type_=Integer),
            bindparam("after_ship_at", type_=stamp),
            bindparam("after_created_at", type_=stamp),
            bindparam("after_id", type_=String),
        )
        query = query.where(tuple_(*_sort_key(sort, *columns)) > tuple_(*_sort_key(sort, *cursor)))
    return query.order_by(*_sort_key(sort, *columns)).limit(bindparam("limit", type_=Integer))


async def find_request(
    sessions: async_sessionmaker[AsyncSession], tenant_id: int, request_id: str
) -> QueuedRequest:
    """A fulfillment request of this tenant as last projected, with its order: one
    read on the call pool (every warehouse step begins with it)."""
    rows = await read(sessions, _FIND.sql, {**_FIND.params, "t": tenant_id, "id": request_id})
    if not rows:
        raise NotFound(f"fulfillment request {request_id!r} does not exist", field="id")
    return _queued(rows[0])


@dataclass(frozen=True)
class _Compiled:
    sql: str  # psycopg's %(name)s style
    params: dict[str, Any]  # the literals the statement carries (a JSON key)


def _compiled(statement: Select[Any]) -> _Compiled:
    done = statement.compile(dialect=psycopg_dialect())  # type: ignore[no-untyped-call]
    return _Compiled(str(done), dict(done.params))


_FIND = _compiled(
    _queued_requests().where(
        FulfillmentRequestRow.tenant_id == bindparam("t"),
        FulfillmentRequestRow.id == bindparam("id"),
    )
)


async def wakeable_backorders(
    sessions: async_sessionmaker[AsyncSession], limit: int
) -> list[tuple[str, str]]:
    """(workflow id, sku) of backordered lines whose item has stock allocation could
    take in some active warehouse of its tenant (domain `can_wake_backorders`):
    highest priority (lowest number), then oldest."""
    async with sessions() as session:
        levels = (
            await session.execute(
                text(
                    "SELECT s.warehouse_id, s.item_id, s.reserved FROM stock_levels s"
                    " JOIN warehouses w ON w.id = s.warehouse_id"
                    " WHERE w.active AND s.item_id IN"
                    "   (SELECT DISTINCT item_id FROM order_lines WHERE backordered > 0)"
                )
            )
        ).all()
        stock = await free_stock(session, [(r.warehouse_id, r.item_id) for r in levels])
        today = datetime.now(UTC).date()
        items = sorted(
            {
                r.item_id
                for r in levels
                if can_wake_backorders(
                    candidates(stock[(r.warehouse_id, r.item_id)]), r.reserved, today
                )
            }
        )
        rows = await session.execute(
            text(
                "SELECT o.workflow_id, i.sku FROM order_lines l"
                " JOIN orders o ON o.id = l.order_id JOIN items i ON i.id = l.item_id"
                " WHERE l.backordered > 0 AND l.item_id = ANY(:items)"
                " ORDER BY o.priority, o.id LIMIT :limit"
            ),
            {"items": items, "limit": limit},
        )
        return [(row[0], row[1]) for row in rows]
