"""Benchmark: orders through the API and a simulated warehouse, against a floor
measured in the same run. Not a test; prints figures and ratios.

    .venv/bin/python -m bench.saga [--orders 100] [--concurrency 16]

1. Saga: N orders of 2 lines each, placed with POST /v1/orders and driven by a
   simulated WMS (GET the order until allocated, then accept, pick, pack, ship
   through the API) until shipped — against FloorWorkflow: the same no-op
   activities (task-queue and local, in the same order) and the same four updates,
   on the same dev server. Target: ratio >= 0.85. The floor is the cost of the
   workflow's shape alone; making the shape cheaper (e.g. local activities for the
   projection) speeds both up and so lowers the ratio: read CPU per order too.
2. Start rate: POST /v1/orders against bare `client.start_workflow` of the same
   workflow, with no worker on the queue (only the start path). Target: >= 0.8.

It starts its own embedded PostgreSQL and Temporal dev server (in memory). By
default the API runs in-process (httpx ASGI transport) and the worker too: one
Python process does the client's, the API's and the worker's work. With
`--deployed`, the API (`oms api`, uvicorn, real HTTP) and the worker (`oms worker`)
run as their own processes, as in production. Either way it prints the CPU each
part spent per order, which says where the time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import contextlib
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import psutil
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from api.resources import Resources, TemporalConnection
from bench.floor_workflow import FloorInput, FloorWorkflow, Nothing, do_nothing
from cli.embedded import EmbeddedPostgres, bin_path, free_port
from cli.seed import seed_demo
from contracts.orders import OrderInput, OrderLineInput
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from domain.roles import Role
from settings import Settings
from worker import build_worker
from workflows.order.workflow import OrderWorkflow
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES


class CpuMeter:
    """CPU seconds spent by this process (client, and API and worker when in-process),
    the Temporal server, PostgreSQL and any other processes named, between `start`
    and `report`: where a run's work went."""

    def __init__(
        self, postgres: EmbeddedPostgres, others: dict[str, subprocess.Popen[bytes]]
    ) -> None:
        me = psutil.Process()
        servers = [p for p in me.children(recursive=True) if "temporal" in p.name()]
        pid = postgres.running_pid()
        assert pid is not None, "PostgreSQL is not running"
        postmaster = psutil.Process(pid)
        self.parts = {"this process": [me], "temporal": servers, "postgres": [postmaster]}
        self.parts |= {name: [psutil.Process(p.pid)] for name, p in others.items()}

    def _now(self) -> dict[str, float]:
        spent = {}
        for name, processes in self.parts.items():
            tree = list(processes)
            if name == "postgres":  # the pool's backends live through a run; count them
                tree += processes[0].children()
            total = 0.0
            for process in tree:
                with contextlib.suppress(psutil.NoSuchProcess):
                    times = process.cpu_times()
                    total += times.user + times.system
            spent[name] = total
        return spent

    def start(self) -> None:
        self.started = self._now()

    def report(self, label: str, items: int, unit: str = "order", digits: int = 0) -> str:
        now = self._now()
        parts = {name: (now[name] - self.started[name]) * 1000 / items for name in now}
        detail = ", ".join(f"{name} {ms:.{digits}f}" for name, ms in parts.items())
        return f"  {label}: {sum(parts.values()):.{digits}f} ms CPU per {unit} ({detail})"


async def _pool(count: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> float:
    """Run `one(i)` for i < count, `concurrency` at a time; items per second."""
    gate = asyncio.Semaphore(concurrency)

    async def run(i: int) -> None:
        async with gate:
            await one(i)

    started = time.perf_counter()
    await asyncio.gather(*(run(i) for i in range(count)))
    return count / (time.perf_counter() - started)


def _order_body(number: str) -> dict[str, Any]:
    return {
        "order_number": number,
        "customer_id": "bench",
        "currency": "EUR",
        "lines": [
            {"line_id": "1", "sku": "TSHIRT-M", "quantity": 1, "unit_price": 10},
            {"line_id": "2", "sku": "MUG", "quantity": 1, "unit_price": 5},
        ],
    }


async def saga_through_api(api: httpx.AsyncClient, keys: dict[Role, str], run: str, i: int) -> None:
    oms = {"Authorization": f"Bearer {keys[Role.OMS]}"}
    wms = {"Authorization": f"Bearer {keys[Role.WMS]}"}
    number = f"B-{run}-{i}"
    created = await api.post("/v1/orders", json=_order_body(number), headers=oms)
    assert created.status_code == 201, created.text
    requests: list[dict[str, Any]] = []
    while not requests:  # the WMS watches its queue (the projection), as a real one would
        await asyncio.sleep(0.05)
        queue = await api.get(
            f"/v1/fulfillment-requests?order_number={number}&status=requested", headers=wms
        )
        requests = queue.json()["items"]
    for request in requests:
        rid = request["id"]
        lines = [{"line_id": x["line_id"], "quantity": x["quantity"]} for x in request["lines"]]
        steps = [
            ("accept", None),
            ("pick", {"lines": lines}),
            ("pack", {"packages": [{"package_number": "P1", "lines": lines}]}),
            ("ship", {"carrier": "bench"}),
        ]
        for step, body in steps:
            response = await api.post(
                f"/v1/fulfillment-requests/{rid}/{step}", json=body, headers=wms
            )
            assert response.status_code == 200, response.text
    assert response.json()["status"] == "shipped"


async def floor_saga(env: WorkflowEnvironment, queue: str, run: str, i: int) -> None:
    handle = await env.client.start_workflow(
        FloorWorkflow.run, FloorInput(f"F-{run}-{i}"), id=f"floor-{run}-{i}", task_queue=queue
    )
    while await handle.query(FloorWorkflow.status) != "ready":
        await asyncio.sleep(0.05)
    for update in (
        FloorWorkflow.accept,
        FloorWorkflow.pick,
        FloorWorkflow.pack,
        FloorWorkflow.ship,
    ):
        await handle.execute_update(update, Nothing("wms"))
    await handle.result()


def spawn(command: str, settings: Settings, queue: str, port: int) -> subprocess.Popen[bytes]:
    """`oms api` or `oms worker` as its own process, on the bench's servers."""
    env = {
        **os.environ,
        "OMS_DATABASE_URL": settings.database_url,
        "OMS_TEMPORAL_ADDRESS": settings.temporal_address,
        "OMS_TEMPORAL_TASK_QUEUE": queue,
        "OMS_API_HOST": "127.0.0.1",
        "OMS_API_PORT": str(port),
    }
    oms = str(Path(sys.executable).parent / "oms")
    return subprocess.Popen(
        [oms, command], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def served(port: int, *others: subprocess.Popen[bytes]) -> httpx.AsyncClient:
    """A client of an API process, once it answers (and the other processes live)."""
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120)
    for _ in range(300):
        for process in others:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if (await client.get("/healthz")).is_success:
                return client
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the API on port {port} did not start")


async def main(orders: int, concurrency: int, deployed: bool) -> None:
    # The workflow sandbox re-imports a workflow's module for every new run: with
    # PYTHONDONTWRITEBYTECODE set and no bytecode, it compiles the source each time.
    # Installed packages (the image) have bytecode; so should the measured tree.
    for package in ("workflows", "bench"):
        compileall.compile_dir(Path(__file__).parent.parent / package, quiet=1)
    root = Path(tempfile.mkdtemp(prefix="oms-saga-"))
    postgres = EmbeddedPostgres(root / "pg", free_port(), durable=False)
    postgres.start()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=bin_path("temporal"),
        search_attributes=list(SEARCH_ATTRIBUTES),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    try:
        postgres.ensure_database("bench")
        url = postgres.url("bench")
        upgrade(url)
        queue = f"bench-{uuid.uuid4().hex[:6]}"
        settings = Settings(
            database_url=url,
            database_pool_size=20,
            temporal_task_queue=queue,
            temporal_address=env.client.service_client.config.target_host,
        )
        engine = create_engine(settings)
        sessions = create_session_factory(engine)
        keys = await seed_demo(sessions, root / "keys.json")
        run = uuid.uuid4().hex[:6]
        where = "API and worker in their own processes" if deployed else "all in one process"
        print(f"{orders} orders, {concurrency} at a time; dev server in memory; {where}\n")
        processes: dict[str, subprocess.Popen[bytes]] = {}
        if deployed:
            port = free_port()
            processes = {
                "api": spawn("api", settings, queue, port),
                "worker": spawn("worker", settings, queue, free_port()),
            }
            client = await served(port, *processes.values())
            worker: Any = contextlib.nullcontext()
        else:
            resources = Resources(
                settings, engine, sessions, TemporalConnection(settings, env.client)
            )
            transport = httpx.ASGITransport(app=create_app(resources=resources))
            client = httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120)
            worker = build_worker(env.client, sessions, queue)
        floor_worker = Worker(
            env.client,
            task_queue=queue + "-floor",
            workflows=[FloorWorkflow],
            activities=[do_nothing],
        )
        api = client
        async with worker, floor_worker:
            # stock for every order: 2 lines x N, far more than the seed has
            wms = {"Authorization": f"Bearer {keys[Role.WMS]}", "Idempotency-Key": run}
            restock = {
                "warehouse": "BER",
                "location": "A-02",
                "lines": [
                    {"sku": "TSHIRT-M", "quantity": orders * 2},
                    {"sku": "MUG", "quantity": orders * 2},
                ],
            }
            assert (await api.post("/v1/inventory/receipts", json=restock, headers=wms)).is_success
            await _pool(4, 4, lambda i: floor_saga(env, queue + "-floor", "warm", i))
            await _pool(4, 4, lambda i: saga_through_api(api, keys, "warm" + run, i))

            meter = CpuMeter(postgres, processes)
            meter.start()
            floor = await _pool(
                orders, concurrency, lambda i: floor_saga(env, queue + "-floor", run, i)
            )
            floor_cpu = meter.report("floor", orders)
            meter.start()
            ours = await _pool(orders, concurrency, lambda i: saga_through_api(api, keys, run, i))
            ours_cpu = meter.report("ours ", orders)
            print(
                f"saga: floor (no-op activities, same updates) {floor:6.1f} orders/s | "
                f"through the API {ours:6.1f} orders/s | ratio {ours / floor:.2f} (target >= 0.85)"
            )
            print(floor_cpu)
            print(ours_cpu)
        await api.aclose()

        # Start rate, with no worker polling the queue: only the start path.
        if deployed:
            port = free_port()
            processes["idle api"] = spawn("api", settings, queue + "-idle", port)
            idle_api = await served(port)
        else:
            idle = settings.model_copy(update={"temporal_task_queue": queue + "-idle"})
            idle_resources = Resources(idle, engine, sessions, TemporalConnection(idle, env.client))
            idle_api = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=create_app(resources=idle_resources)),
                base_url="http://bench",
            )
        oms = {"Authorization": f"Bearer {keys[Role.OMS]}"}
        tenant_id = 1

        async def bare(i: int) -> None:
            order = OrderInput(
                tenant_id=tenant_id,
                order_number=f"S-{run}-{i}",
                customer_id="bench",
                currency="EUR",
                lines=[
                    OrderLineInput(line_id="1", sku="TSHIRT-M", quantity=1, unit_price="10"),
                    OrderLineInput(line_id="2", sku="MUG", quantity=1, unit_price="5"),
                ],
            )
            await env.client.start_workflow(
                OrderWorkflow.run,
                order,
                id=f"order:{tenant_id}:S-{run}-{i}",
                task_queue=queue + "-idle",
            )

        async def posted(i: int) -> None:
            response = await idle_api.post(
                "/v1/orders", json=_order_body(f"P-{run}-{i}"), headers=oms
            )
            assert response.status_code == 201, response.text

        starts = orders * 3
        meter = CpuMeter(postgres, processes)
        meter.start()
        bare_rate = await _pool(starts, concurrency, bare)
        bare_cpu = meter.report("bare", starts, "start", 1)
        meter.start()
        api_rate = await _pool(starts, concurrency, posted)
        api_cpu = meter.report("POST", starts, "start", 1)
        print(
            f"start: bare start_workflow {bare_rate:6.1f}/s | POST /v1/orders {api_rate:6.1f}/s | "
            f"ratio {api_rate / bare_rate:.2f} (target >= 0.8)"
        )
        print(bare_cpu)
        print(api_cpu)
        await idle_api.aclose()
        await engine.dispose()
        for process in processes.values():
            process.terminate()
            process.wait(timeout=30)
    finally:
        await env.shutdown()
        postgres.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--deployed", action="store_true", help="API and worker as their own processes"
    )
    args = parser.parse_args()
    asyncio.run(main(args.orders, args.concurrency, args.deployed))
    os._exit(0)  # skip teardown of Temporal's core threads (sdk-python#300)
