"""The order projection follows the workflow's newest view, whatever order the
writes arrive in and however they race (local activities retry and overlap)."""

import asyncio
import random
import uuid
from dataclasses import replace

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.orders import (
    LineView,
    OrderInput,
    OrderLineInput,
    OrderView,
    RequestLineView,
    RequestView,
)
from db.order_projection import OrderProjection
from domain.orders import FulfillmentPolicy, OrderStatus, PaymentStatus, RequestStatus
from tests.integration.stock_world import World


def _view(order: OrderInput, version: int, backordered: int, request_status: str) -> OrderView:
    lines = [
        LineView(
            line_id="1",
            sku="WIDGET",
            unit_price="1",
            ordered=5,
            backordered=backordered,
            shipped=version % 3,
        ),
        LineView(line_id="2", sku="GADGET", unit_price="1", ordered=5, canceled=version % 2),
    ]
    request = RequestView(
        id=f"{order.order_number}-WH1-1",
        warehouse="WH1",
        status=RequestStatus(request_status),
        lines=[RequestLineView(line_id="1", sku="WIDGET", quantity=5)],
        allocations=[],
    )
    return OrderView(
        tenant_id=order.tenant_id,
        order_number=order.order_number,
        workflow_id=f"order:{order.order_number}",
        customer_id="C",
        currency="EUR",
        status=OrderStatus.ALLOCATED,
        fulfillment_policy=FulfillmentPolicy.SHIP_PARTIAL,
        priority=100,
        payment_status=PaymentStatus.AUTHORIZED,
        reservation_expires_at=None,
        lines=lines,
        holds=[],
        fulfillment_requests=[request],
        shipments=[],
        version=version,
    )


async def _rows(sessions: async_sessionmaker[AsyncSession], number: str) -> tuple[object, ...]:
    async with sessions() as session:
        version = await session.scalar(
            text("SELECT version FROM orders WHERE order_number = :n"), {"n": number}
        )
        lines = (
            await session.execute(
                text(
                    "SELECT l.line_id, l.backordered, l.shipped, l.canceled FROM order_lines l"
                    " JOIN orders o ON o.id = l.order_id WHERE o.order_number = :n"
                    " ORDER BY l.line_id"
                ),
                {"n": number},
            )
        ).all()
        requests = (
            await session.execute(
                text(
                    "SELECT r.id, r.status FROM fulfillment_requests r"
                    " JOIN orders o ON o.id = r.order_id WHERE o.order_number = :n"
                ),
                {"n": number},
            )
        ).all()
    return version, [tuple(x) for x in lines], [tuple(x) for x in requests]


async def recorded_order(projection: OrderProjection, world: World) -> OrderInput:
    """A new order of 5 WIDGET and 5 GADGET, recorded (nothing projected yet)."""
    number = f"SO-{uuid.uuid4().hex[:8]}"
    order = OrderInput(
        tenant_id=world.tenant_id,
        order_number=number,
        customer_id="C",
        currency="EUR",
        lines=[
            OrderLineInput(line_id="1", sku="WIDGET", quantity=5, unit_price="1"),
            OrderLineInput(line_id="2", sku="GADGET", quantity=5, unit_price="1"),
        ],
    )
    await projection.record(order, f"order:{number}")
    return order


async def test_racing_and_late_writes_leave_the_newest_view(world: World) -> None:
    projection = OrderProjection(world.sessions)
    rng = random.Random(7)
    for _ in range(10):
        order = await recorded_order(projection, world)
        number = order.order_number
        # Line values flip back and forth between versions: a newer write may carry
        # exactly the values an older, overlapping write replaced.
        views = [
            _view(order, v, backordered=v % 2, request_status=("requested", "picked")[v % 2])
            for v in range(1, 9)
        ]
        writes = [*views, *rng.sample(views, 4)]  # some retried
        rng.shuffle(writes)
        await asyncio.gather(*(projection.update(v) for v in writes))
        newest = views[-1]
        expected_lines = [(x.line_id, x.backordered, x.shipped, x.canceled) for x in newest.lines]
        assert await _rows(world.sessions, number) == (
            newest.version,
            expected_lines,
            [(f"{number}-WH1-1", newest.fulfillment_requests[0].status)],
        )
        # a late, older write changes nothing
        await projection.update(replace(views[0]))
        assert (await _rows(world.sessions, number))[0] == newest.version
