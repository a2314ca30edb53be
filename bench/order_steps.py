"""Benchmark: CPU of this process per call of an order's two stock steps, the
activities `reserve_lines` and `allocate_reservations` called directly (no
Temporal) on 2-line orders. Not a test; prints figures.

    .venv/bin/python -m bench.order_steps [--orders 300] [--profile]

CPU is `time.process_time()` of this process (the client side: SQLAlchemy,
psycopg, pydantic, our code), one caller; Postgres's CPU is not in it. It starts
its own embedded PostgreSQL in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import tempfile
import time
import uuid
from pathlib import Path

from activities.orders import OrderActivities
from bench.stock_ops import setup_tenant
from cli.embedded import EmbeddedPostgres, free_port
from contracts.orders import KeyedIds, LineNeed, ReserveLinesInput
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from settings import Settings

SKUS = ["A", "B"]


async def orders(steps: OrderActivities, tenant_id: int, count: int) -> tuple[float, float]:
    """CPU seconds per reserve_lines call and per allocate_reservations call."""
    reserving = allocating = 0.0
    for _ in range(count):
        number = uuid.uuid4().hex[:12]
        lines = [LineNeed(line_id=str(n), sku=sku, quantity=1) for n, sku in enumerate(SKUS)]
        data = ReserveLinesInput(
            tenant_id=tenant_id,
            key=f"order:{number}/reserve",
            order_number=number,
            lines=lines,
            preferred_warehouse=None,
            allow_split=False,
        )
        started = time.process_time()
        reserved = await steps.reserve_lines(data)
        reserving += time.process_time() - started
        ids = [part.reservation_id for line in reserved.lines for part in line.parts]
        started = time.process_time()
        await steps.allocate_reservations(
            KeyedIds(tenant_id=tenant_id, key=f"order:{number}/allocate", ids=ids)
        )
        allocating += time.process_time() - started
    return reserving / count, allocating / count


async def measure(url: str, count: int, profile: bool) -> None:
    engine = create_engine(Settings(database_url=url))
    try:
        sessions = create_session_factory(engine)
        steps = OrderActivities(sessions)
        tenant_id = await setup_tenant(sessions, SKUS)  # WH1 stages at STAGE
        await orders(steps, tenant_id, 50)  # warm up
        reserving, allocating = await orders(steps, tenant_id, count)
        print(
            f"{count} 2-line orders, one caller, CPU of this process per call: "
            f"reserve_lines {reserving * 1000:.2f} ms, "
            f"allocate_reservations {allocating * 1000:.2f} ms"
        )
        if profile:
            with cProfile.Profile(time.process_time) as profiler:  # CPU, not wall time
                await orders(steps, tenant_id, count)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="oms-bench-")) / "pg", free_port())
    server.start()
    try:
        server.ensure_database("bench")
        upgrade(server.url("bench"))
        asyncio.run(measure(server.url("bench"), args.orders, args.profile))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
