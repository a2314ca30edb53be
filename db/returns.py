"""Returns in the database: the claim on an order's shipped quantities (taken under
the order row's lock, so concurrent requests can never return more than shipped),
the projection the return workflow keeps, and the refund record."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.events import record_events
from db.models import Item, Order, OrderLine, Return, ReturnLine
from domain.change_events import return_events
from domain.errors import Conflict, NotFound
from domain.events import NewEvent
from domain.orders import OrderStatus
from domain.returns import Returnable, ReturnStatus, check_request


@dataclass(frozen=True)
class OpenedLine:
    line_id: str
    sku: str
    requested: int
    unit_price: str


@dataclass(frozen=True)
class Opened:
    return_id: int
    order_number: str
    currency: str
    lines: list[OpenedLine]
    created: bool  # False: the same request again


async def open_return(
    session: AsyncSession,
    tenant_id: int,
    order_number: str,
    rma_number: str,
    reason: str,
    requested: list[tuple[str, int]],
    request_hash: str,
    workflow_id: str,
) -> Opened:
    """Claim what the return asks for against the order's shipped lines (one
    transaction; the caller commits). The same RMA with the same request answers with
    the existing return; with another request, 409."""
    order = await session.scalar(
        select(Order)
        .where(Order.tenant_id == tenant_id, Order.order_number == order_number)
        .with_for_update()
    )
    if order is None:
        raise NotFound(f"order {order_number} does not exist", field="order_number")
    existing = await session.scalar(
        select(Return).where(Return.tenant_id == tenant_id, Return.rma_number == rma_number)
    )
    if existing is not None:
        if existing.request_hash != request_hash or existing.order_id != order.id:
            raise Conflict(f"return {rma_number} exists with other content", field="rma_number")
        return Opened(
            existing.id,
            order.order_number,
            order.currency,
            await _opened_lines(session, existing.id),
            created=False,
        )
    lines = {
        row.line_id: (row, sku)
        for row, sku in await session.execute(
            select(OrderLine, Item.sku)
            .join(Item, Item.id == OrderLine.item_id)
            .where(OrderLine.order_id == order.id)
        )
    }
    sums = await session.execute(
        text("SELECT line_id, sum(claimed) FROM return_lines WHERE order_id = :o GROUP BY 1"),
        {"o": order.id},
    )
    claimed: dict[str, int] = {line_id: int(total) for line_id, total in sums}
    check_request(
        {
            lid: Returnable(lid, sku, row.shipped, int(claimed.get(lid, 0)))
            for lid, (row, sku) in lines.items()
        },
        requested,
    )
    created = Return(
        tenant_id=tenant_id,
        rma_number=rma_number,
        order_id=order.id,
        workflow_id=workflow_id,
        status=ReturnStatus.REQUESTED.value,
        reason=reason,
        request_hash=request_hash,
        version=0,
    )
    session.add(created)
    await session.flush()
    for line_id, quantity in requested:
        row, _ = lines[line_id]
        session.add(
            ReturnLine(
                return_id=created.id,
                line_id=line_id,
                tenant_id=tenant_id,
                order_id=order.id,
                item_id=row.item_id,
                requested=quantity,
                claimed=quantity,
                received=0,
                accepted=0,
                unit_price=row.unit_price,
            )
        )
    await session.flush()
    return Opened(
        created.id,
        order.order_number,
        order.currency,
        await _opened_lines(session, created.id),
        created=True,
    )


async def _opened_lines(session: AsyncSession, return_id: int) -> list[OpenedLine]:
    rows = await session.execute(
        select(ReturnLine.line_id, Item.sku, ReturnLine.requested, ReturnLine.unit_price)
        .join(Item, Item.id == ReturnLine.item_id)
        .where(ReturnLine.return_id == return_id)
        .order_by(ReturnLine.line_id)
    )
    return [OpenedLine(lid, sku, q, format(price.normalize(), "f")) for lid, sku, q, price in rows]


async def project_return(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: int,
    rma_number: str,
    status: ReturnStatus,
    version: int,
    view: dict[str, Any],
    refund: tuple[Decimal, str | None] | None = None,
) -> None:
    """Follow the workflow (newest version wins). What a return claims of its order
    follows its status: requested while open, received once received, nothing once
    rejected or expired. A received return also moves the order's returned figures."""
    async with sessions() as session, session.begin():
        before = (
            await session.execute(
                text(
                    "SELECT id, status, version FROM returns"
                    " WHERE tenant_id = :t AND rma_number = :n FOR UPDATE"
                ),
                {"t": tenant_id, "n": rma_number},
            )
        ).first()
        if before is None or before.version >= version:
            return  # an older version (a retried or late write): no change, no event
        return_id = before.id
        await session.execute(
            text(
                "UPDATE returns SET status = :s, version = :v, view = CAST(:view AS jsonb),"
                " updated_at = now(),"
                " refund_amount = coalesce(:amount, refund_amount),"
                " refund_reason = coalesce(:why, refund_reason)"
                " WHERE id = :r"
            ),
            {
                "s": status.value,
                "v": version,
                "view": _json(view),
                "r": return_id,
                "amount": refund[0] if refund else None,
                "why": refund[1] if refund else None,
            },
        )
        was = ReturnStatus(before.status) if before.version > 0 else None
        await record_events(
            session,
            [
                NewEvent(tenant_id=tenant_id, type=t, subject_id=rma_number, data=view)
                for t in return_events(was, status)
            ],
        )
        claim = {
            ReturnStatus.REQUESTED: "requested",
            ReturnStatus.APPROVED: "requested",
            ReturnStatus.RECEIVED: "received",
            ReturnStatus.CLOSED: "received",
            ReturnStatus.REJECTED: "0",
            ReturnStatus.EXPIRED: "0",
        }[status]
        await session.execute(
            text(f"UPDATE return_lines SET claimed = {claim} WHERE return_id = :r"),
            {"r": return_id},
        )
        if status in (ReturnStatus.RECEIVED, ReturnStatus.CLOSED):
            await _order_returned(session, return_id)


async def _order_returned(session: AsyncSession, return_id: int) -> None:
    """The order's lines count what came back; a shipped order reads returned or
    partially_returned."""
    order_id = await session.scalar(
        text("SELECT order_id FROM returns WHERE id = :r FOR UPDATE"), {"r": return_id}
    )
    await session.execute(
        text(
            "UPDATE order_lines l SET returned = coalesce((SELECT sum(rl.received)"
            " FROM return_lines rl JOIN returns r ON r.id = rl.return_id"
            " WHERE rl.order_id = l.order_id AND rl.line_id = l.line_id"
            " AND r.status IN ('received', 'closed')), 0) WHERE l.order_id = :o"
        ),
        {"o": order_id},
    )
    await session.execute(
        text(
            "UPDATE orders o SET status = CASE WHEN (SELECT bool_and(returned >= shipped)"
            " FROM order_lines WHERE order_id = o.id AND shipped > 0) THEN :all ELSE :part END"
            " WHERE id = :o AND status IN (:shipped, :all, :part)"
        ),
        {
            "o": order_id,
            "all": OrderStatus.RETURNED.value,
            "part": OrderStatus.PARTIALLY_RETURNED.value,
            "shipped": OrderStatus.SHIPPED.value,
        },
    )


async def returned_by_line(
    session: AsyncSession, tenant_id: int, order_numbers: list[str]
) -> dict[str, dict[str, int]]:
    """Returned (received back) base units per order and line."""
    rows = await session.execute(
        select(Order.order_number, OrderLine.line_id, OrderLine.returned)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(
            Order.tenant_id == tenant_id,
            Order.order_number.in_(order_numbers),
            OrderLine.returned > 0,
        )
    )
    found: dict[str, dict[str, int]] = {}
    for number, line_id, returned in rows:
        found.setdefault(number, {})[line_id] = int(returned)
    return found


async def projected_return(
    session: AsyncSession, tenant_id: int, rma_number: str
) -> dict[str, Any] | None:
    """The return's view as its workflow last projected it (None before its first
    publish)."""
    view: dict[str, Any] | None = await session.scalar(
        select(Return.view).where(Return.tenant_id == tenant_id, Return.rma_number == rma_number)
    )
    return view


async def list_returns(
    session: AsyncSession,
    tenant_id: int,
    *,
    status: ReturnStatus | None,
    order_number: str | None,
    before: int | None,
    limit: int,
) -> list[tuple[int, datetime, dict[str, Any]]]:
    """(row id, when requested, last projected view) of a tenant's returns, newest first."""
    query = (
        select(Return.id, Return.created_at, Return.view)
        .where(Return.tenant_id == tenant_id, Return.view.is_not(None))
        .order_by(Return.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(Return.status == status.value)
    if order_number is not None:
        query = query.join(Order, Order.id == Return.order_id).where(
            Order.order_number == order_number
        )
    if before is not None:
        query = query.where(Return.id < before)
    return [(rid, created, view) for rid, created, view in await session.execute(query)]


def _json(view: dict[str, Any]) -> str:
    return json.dumps(view)
