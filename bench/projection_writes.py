"""CPU of the order projection's writes in this process: an order recorded, then its
views written step by step (received .. shipped, each with its events), one caller.

    .venv/bin/python -m bench.projection_writes --orders 60

Prints the process CPU (time.process_time) per record and per update, and the wall
time per write; starts its own PostgreSQL."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import tempfile
import time
import uuid
from pathlib import Path

from pydantic import TypeAdapter

from bench.stock_ops import setup_tenant
from cli.embedded import EmbeddedPostgres, free_port
from contracts.orders import OrderInput, OrderLineInput, OrderView
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from db.order_projection import OrderProjection
from domain.orders import OrderStatus, RequestStatus
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


_VIEW = TypeAdapter(OrderView)
_SHIPMENT = {"carrier": "DHL", "tracking_numbers": ["1Z"], "shipped_at": "2026-12-01T12:00:00Z"}


def views_of(order: OrderInput) -> list[OrderView]:
    """The order's view at each step of LIFE: one request for all lines, shipped last."""
    lines = [
        {"line_id": x.line_id, "sku": x.sku, "unit_price": x.unit_price, "ordered": x.quantity}
        for x in order.lines
    ]
    rid = f"{order.order_number}-WH1-1"
    request = {
        "id": rid,
        "warehouse": "WH1",
        "lines": [{"line_id": x["line_id"], "sku": x["sku"], "quantity": 2} for x in lines],
        "allocations": [
            {"allocation_id": n, "reservation_id": n, "line_id": x["line_id"], "location": "A1",
             "lot": None, "serial": None, "quantity": 2, "status": "allocated"}
            for n, x in enumerate(lines, start=1)
        ],
    }  # fmt: skip
    views = []
    for version, (status, request_status) in enumerate(LIFE, start=1):
        shipped = request_status is RequestStatus.SHIPPED
        fields = {
            **dataclasses.asdict(order),
            "workflow_id": f"order:{order.order_number}",
            "status": status,
            "payment_status": "authorized",
            "reservation_expires_at": None,
            "lines": lines,
            "holds": [],
            "fulfillment_requests": [{**request, "status": request_status}]
            if request_status
            else [],
            "shipments": [{**_SHIPMENT, "request_id": rid, "service_level": None, "packages": []}]
            if shipped
            else [],
            "version": version,
        }
        views.append(_VIEW.validate_python(fields))
    return views


async def main(orders: int) -> None:
    with tempfile.TemporaryDirectory(prefix="oms-bench-") as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pg", free_port(), durable=False)
        server.start()
        try:
            server.ensure_database("bench")
            await measure(server.url("bench"), orders)
        finally:
            server.stop()


async def measure(url: str, orders: int) -> None:
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
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=60, help="orders (5 updates each)")
    asyncio.run(main(parser.parse_args().orders))
