"""A caller process for the concurrency tests: fires `count` reservations of one
unit of `sku`, `concurrency` at a time, and prints how many succeeded.

    python -m tests.integration.reserve_load DATABASE_URL TENANT_ID SKU COUNT CONCURRENCY
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid

from db.engine import create_engine, create_session_factory
from db.stock.operation import Caller
from db.stock.promising import reserve
from domain.stock import InsufficientStock, ReserveLine, ReserveStock
from settings import Settings


async def run(url: str, tenant_id: int, sku: str, count: int, concurrency: int) -> dict[str, int]:
    # reservations run in the worker: its timeouts
    engine = create_engine(Settings(database_url=url, database_pool_size=concurrency), worker=True)
    sessions = create_session_factory(engine)
    gate = asyncio.Semaphore(concurrency)
    outcome = {"reserved": 0, "short": 0}

    async def one() -> None:
        async with gate:
            caller = Caller(tenant_id, uuid.uuid4().hex, "load")
            try:
                await reserve(sessions, caller, ReserveStock([ReserveLine("WH1", sku, 1)], "pos"))
                outcome["reserved"] += 1
            except InsufficientStock:
                outcome["short"] += 1

    try:
        await asyncio.gather(*(one() for _ in range(count)))
    finally:
        await engine.dispose()
    return outcome


if __name__ == "__main__":
    url, tenant, sku, count, concurrency = sys.argv[1:6]
    result = asyncio.run(run(url, int(tenant), sku, int(count), int(concurrency)))
    print(json.dumps(result))
