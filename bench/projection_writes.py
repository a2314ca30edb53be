"""CPU of the order projection's writes in this process: an order recorded, then its
views written step by step (received .. shipped, each with its events), one caller.

    .venv/bin/python -m bench.projection_writes --orders 60

Prints the process CPU (time.process_time) per record and per update, and the wall
time per write; starts its own PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path

from bench.stock_ops import setup_tenant
from cli.embedded import EmbeddedPostgres, free_port
from contracts.orders import (
    AllocationView,
    LineView,
    OrderInput,
    OrderLineInput,
    OrderView,
    RequestLineView,
    RequestView,
    ShipmentView,
)
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from db.order_projection import OrderProjection
from domain.orders import (
    AllocationStatus,
    FulfillmentPolicy,
    OrderStatus,
    PaymentStatus,
    RequestStatus,
)
from settings import Settings

SKUS = ["A", "B", "C"]
LIFE = [  # each step's (order status, request status)
    (OrderStatus.RECEIVED, None),
    (OrderStatus.ALLOCATED, None),
    (OrderStatus.IN_FULFILLMENT, RequestStatus.REQUESTED),
    (OrderStatus.IN_FULFILLMENT, RequestStatus.PICKED),
    (OrderStatus.SHIPPED, RequestStatus.SHIPPED),
]


def order_of(tenant_id: int) -> OrderInput:
    return OrderInput(
        tenant_id=tenant_id,
        order_number=f"SO-{uuid.uuid4().hex[:10]}",
        customer_id="C-1",
        currency="EUR",
        lines=[
            OrderLineInput(line_id=str(n), sku=sku, quantity=2, unit_price="9.90")
            for n, sku in enumerate(SKUS, start=1)
        ],
    )


def views_of(order: OrderInput) -> list[OrderView]:
    lines = [
        LineView(line_id=x.line_id, sku=x.sku, unit_price=x.unit_price, ordered=x.quantity)
        for x in order.lines
    ]
    base = OrderView(
        tenant_id=order.tenant_id,
        order_number=order.order_number,
        workflow_id=f"order:{order.order_number}",
        customer_id=order.customer_id,
        currency=order.currency,
        status=OrderStatus.RECEIVED,
        fulfillment_policy=FulfillmentPolicy.SHIP_PARTIAL,
        priority=100,
        payment_status=PaymentStatus.AUTHORIZED,
        reservation_expires_at=None,
        lines=lines,
        holds=[],
        fulfillment_requests=[],
        shipments=[],
    )
    views = []
    for version, (status, request_status) in enumerate(LIFE, start=1):
        requests = []
        shipments = []
        if request_status is not None:
            rid = f"{order.order_number}-WH1-1"
            requests = [
                RequestView(
                    id=rid,
                    warehouse="WH1",
                    status=request_status,
                    lines=[
                        RequestLineView(line_id=x.line_id, sku=x.sku, quantity=x.ordered)
                        for x in lines
                    ],
                    allocations=[
                        AllocationView(
                            allocation_id=n,
                            reservation_id=n,
                            line_id=x.line_id,
                            location="A1",
                            lot=None,
                            serial=None,
                            quantity=x.ordered,
                            status=AllocationStatus.ALLOCATED,
                        )
                        for n, x in enumerate(lines, start=1)
                    ],
                )
            ]
            if request_status is RequestStatus.SHIPPED:
                shipments = [
                    ShipmentView(
                        request_id=rid,
                        carrier="DHL",
                        service_level=None,
                        tracking_numbers=["1Z"],
                        packages=[],
                        shipped_at="2026-12-01T12:00:00Z",
                    )
                ]
        views.append(
            replace(
                base,
                status=status,
                version=version,
                fulfillment_requests=requests,
                shipments=shipments,
            )
        )
    return views


async def main(orders: int, profile: bool) -> None:
    root = Path(tempfile.mkdtemp(prefix="oms-bench-"))
    server = EmbeddedPostgres(root / "pg", free_port())
    server.start()
    try:
        server.ensure_database("bench")
        url = server.url("bench")
        upgrade(url)
        engine = create_engine(Settings(database_url=url, database_pool_size=4))
        sessions = create_session_factory(engine)
        projection = OrderProjection(sessions)
        tenant_id = await setup_tenant(sessions, SKUS)
        for label, count in (("warm-up", max(orders // 5, 5)), ("measured", orders)):
            inputs = [order_of(tenant_id) for _ in range(count)]
            views = [views_of(order) for order in inputs]
            cpu, wall = time.process_time(), time.perf_counter()
            for order in inputs:
                await projection.record(order, f"order:{order.order_number}")
            record_cpu, record_wall = time.process_time() - cpu, time.perf_counter() - wall
            cpu, wall = time.process_time(), time.perf_counter()
            for steps in views:
                for view in steps:
                    await projection.update(view)
            update_cpu, update_wall = time.process_time() - cpu, time.perf_counter() - wall
            updates = count * len(LIFE)
            print(
                f"{label:>8}: {count} records {record_cpu / count * 1000:.2f} ms CPU each"
                f" ({record_wall / count * 1000:.2f} ms wall) | {updates} updates"
                f" {update_cpu / updates * 1000:.2f} ms CPU each"
                f" ({update_wall / updates * 1000:.2f} ms wall)"
            )
        if profile:
            profiler = cProfile.Profile()
            inputs = [order_of(tenant_id) for _ in range(orders)]
            profiler.enable()
            for order in inputs:
                await projection.record(order, f"order:{order.order_number}")
                for view in views_of(order):
                    await projection.update(view)
            profiler.disable()
            print("\nwhere an order's record and updates spend their time:")
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        await engine.dispose()
    finally:
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=60)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.orders, args.profile))
