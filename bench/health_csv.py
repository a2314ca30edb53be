"""Benchmark: peak RSS of the API process while it streams the inventory health CSV
of 100,000 SKU x warehouse rows, against the same export when the filter matches
nothing. Not a test; prints figures.

    .venv/bin/python -m bench.health_csv [--rows 100000]

It starts its own embedded PostgreSQL in a temporary folder, seeds one tenant with
`rows` items and a stock level each (set-based SQL, not the stock operations: only
the read is measured), runs `oms api` as a separate process and samples that
process's RSS every 5 ms while a client reads the CSV and throws it away.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import psutil
from sqlalchemy import text

from cli.embedded import EmbeddedPostgres, free_port, wait_for_port
from db.catalogue import create_warehouse
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from db.tenants import create_api_key, ensure_tenant
from domain.catalogue import LocationSpec, LocationType, WarehouseSpec
from domain.roles import Role
from settings import Settings

_ITEMS = text(
    """
    INSERT INTO items (tenant_id, sku, name, uom_unit, base_units_per_unit,
        min_increment_base, min_cut_base, rounding, track_lot, track_serial, track_expiry,
        requires_inspection, default_strategy, reorder_point, safety_stock,
        low_stock_threshold, backorder_policy, purchase_multiple, active)
    SELECT :t, 'SKU-' || lpad(g::text, 7, '0'), 'Item number ' || g, 'ea', 1, 1, 0, 'up',
           false, false, false, false, 'fifo', 10, 5, g % 20, 'deny', 1, true
    FROM generate_series(1, :n) g
    """
)
_LEVELS = text(
    """
    INSERT INTO stock_levels (tenant_id, warehouse_id, item_id, on_hand, reserved, allocated,
                              in_transit, incoming, held)
    SELECT :t, :w, id, id % 50, 0, 0, 0, 0, 0 FROM items WHERE tenant_id = :t
    """
)


async def seed(url: str, rows: int) -> str:
    engine = create_engine(Settings(database_url=url, database_statement_timeout_ms=0))
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        tenant = await ensure_tenant(session, f"bench-{uuid.uuid4().hex[:8]}")
        warehouse = await create_warehouse(
            session,
            tenant.id,
            WarehouseSpec("WH1", "bench"),
            [LocationSpec("WH1", "A1", LocationType.BIN)],
        )
        key = await create_api_key(session, tenant, Role.VIEWER, "bench", created_by="bench")
        await session.execute(_ITEMS, {"t": tenant.id, "n": rows})
        await session.execute(_LEVELS, {"t": tenant.id, "w": warehouse.id})
    await engine.dispose()
    return key.plaintext


class PeakRss:
    """The highest RSS of a process while the block runs, sampled every 5 ms."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.005)

    def __enter__(self) -> PeakRss:
        self.peak = self.process.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def export(base: str, key: str, pid: int, query: str) -> tuple[int, int, float]:
    """(peak RSS, CSV lines, seconds) of one streamed export."""
    headers = {"Authorization": f"Bearer {key}", "Accept": "text/csv"}
    lines = 0
    started = time.perf_counter()
    url = f"{base}/v1/inventory/health{query}"
    with (
        PeakRss(pid) as rss,
        httpx.Client(timeout=300) as client,
        client.stream("GET", url, headers=headers) as r,
    ):
        r.raise_for_status()
        for chunk in r.iter_bytes():
            lines += chunk.count(b"\n")
    return rss.peak, lines, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    mib = 1024 * 1024
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedPostgres(Path(tmp) / "pg", free_port(), durable=False)
        server.start()
        api = None
        try:
            server.ensure_database("bench")
            url = server.url("bench")
            upgrade(url)
            key = asyncio.run(seed(url, args.rows))
            port = free_port()
            env = {**os.environ, "OMS_DATABASE_URL": url, "OMS_API_PORT": str(port)}
            env["OMS_LOG_LEVEL"] = "WARNING"
            oms = str(Path(sys.executable).with_name("oms"))
            api = subprocess.Popen([oms, "api"], env=env)
            wait_for_port(port, timeout=60)
            base = f"http://127.0.0.1:{port}"
            export(base, key, api.pid, "?q=warm-up")  # imports and pools, once
            idle = psutil.Process(api.pid).memory_info().rss
            print(f"{args.rows} rows; API process RSS at rest {idle / mib:.1f} MiB")
            for label, query in (("empty", "?q=no-such-sku"), ("full", ""), ("full", "")):
                peak, lines, seconds = export(base, key, api.pid, query)
                print(
                    f"  {label:5} export: {lines - 1:>7} rows, peak RSS {peak / mib:6.1f} MiB"
                    f" (+{(peak - idle) / mib:5.1f} MiB over rest), {seconds:5.1f} s"
                )
        finally:
            if api is not None:
                api.terminate()
                api.wait(30)
            server.stop()


if __name__ == "__main__":
    main()
