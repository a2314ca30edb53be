"""Benchmark: orders through the API and a simulated warehouse, against a fixed floor
measured in the same run. Not a test; prints figures, ratios and issue 15's targets.

    .venv/bin/python -m bench.saga [--orders 100] [--concurrency 16] [--starts 900] [--deployed]
        [--profile] [--unsandboxed]
    .venv/bin/python -m bench.saga --hot [--hot-orders 1000] [--concurrency 16] [--deployed]

1. Saga: N orders of 2 lines each, placed with POST /v1/orders and driven by a
   simulated WMS (one read of its whole queue every 50 ms, as a real one would, then
   accept, pick, pack, ship each request
   through the API) until shipped — against the fixed floor (bench/floor_workflow.py:
   4 no-op activities through the task queue and the same 4 updates, started and
   driven by the bare Temporal client, same dev server, its worker in this process).
   Prints orders/s and their ratio (target >= 0.5), CPU per order by process and the
   ratio of the totals (target <= 1.6), p50/p99 order-to-shipped latency (from the
   POST, or start_workflow, to the ship response). Measured in turns of half the
   orders, floor-ours-ours-floor, so a drift in the machine's speed during the run
   weighs on both alike.
2. Start rate: POST /v1/orders against bare `client.start_workflow` of the same
   workflow, with no worker on the queue (only the start path). Target: >= 0.9.
   Also the bare start given what the API's start asks besides (the memo and the
   order's search attributes): how much of the gap is Temporal's, how much the API's;
   and a fixed HTTP floor (bench/start_floor_api.py: one FastAPI route making that
   start, sent the same body by the same client, served as the API is): how much
   of the rest any HTTP door on this stack costs, how much ours costs besides.
   The four are measured in turns (the in-memory server slows as runs pile up).
3. `--hot` (instead of 1 and 2; bench/saga_hot.py): 1,000 orders of 1 unit for one SKU
   with 100 units on hand — exactly 100 must get stock (exit status 1 otherwise) —
   and their throughput against the same orders spread over 100 SKUs (target >= 0.5).

It starts its own embedded PostgreSQL and Temporal dev server (in memory). By
default the API runs in-process (httpx ASGI transport) and the worker too: one
Python process does the client's, the API's and the worker's work. With
`--deployed`, the API (`oms api`, uvicorn, real HTTP) and the worker (`oms worker`)
run as their own processes, as in production. `--profile` profiles our part of the
run (py-spy when installed in the venv, else cProfile) and prints the top 25.
`--unsandboxed` runs both workers, ours and the floor's, without the SDK's workflow
sandbox (OMS_WORKFLOW_SANDBOX=false).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client
from temporalio.common import (
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.worker import Worker

from bench.floor_workflow import FloorInput, FloorStep, FloorWorkflow, do_nothing
from bench.saga_hot import hot_bench
from bench.saga_stack import Stack, cpu_line, percentile, pool, profiled, running_stack
from contracts.orders import OrderInput, OrderLineInput
from domain.orders import OrderStatus
from domain.roles import Role
from worker import workflow_runner
from workflows import search_attributes
from workflows.order.workflow import OrderWorkflow

LINES = (("1", "TSHIRT-M", "10"), ("2", "MUG", "5"))  # line id, SKU, unit price
START_TURNS = 4  # the start rate bench measures its 4 variants in turns, each first once
SAGA_TURNS = ("floor", "ours", "ours", "floor")  # each measures half the orders
POLL = 0.05  # how often the WMS (or the floor's driver) looks for work, seconds


def order_body(number: str) -> dict[str, Any]:
    return {
        "order_number": number,
        "customer_id": "bench",
        "currency": "EUR",
        "lines": [
            {"line_id": line, "sku": sku, "quantity": 1, "unit_price": price}
            for line, sku, price in LINES
        ],
    }


class Queue:
    """The simulated WMS's view of its work, as a real one reads it: one list of the
    requests waiting (`status=requested`) every POLL for all orders in flight, not
    one read per order (which would cost the API per order in flight per tick)."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.waiting: dict[str, asyncio.Future[list[dict[str, Any]]]] = {}

    async def requests_of(self, number: str) -> list[dict[str, Any]]:
        self.waiting[number] = asyncio.get_running_loop().create_future()
        return await self.waiting[number]

    async def watch(self) -> None:
        while True:
            await asyncio.sleep(POLL)
            if not self.waiting:
                continue
            page = await self.stack.api.get(
                "/v1/fulfillment-requests?status=requested&limit=500",
                headers=self.stack.headers(Role.WMS),
            )
            found: dict[str, list[dict[str, Any]]] = {}
            for request in page.json()["items"]:
                found.setdefault(request["order_number"], []).append(request)
            for number, requests in found.items():
                waiter = self.waiting.pop(number, None)
                if waiter is not None:
                    waiter.set_result(requests)


async def saga_through_api(stack: Stack, queue: Queue, run: str, i: int) -> float:
    """One order from POST to shipped; seconds from the POST to the ship response."""
    api, wms = stack.api, stack.headers(Role.WMS)
    number = f"B-{run}-{i}"
    started = time.perf_counter()
    waiting = asyncio.ensure_future(queue.requests_of(number))
    created = await api.post("/v1/orders", json=order_body(number), headers=stack.headers(Role.OMS))
    assert created.status_code == 201, created.text
    for request in await waiting:
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
    return time.perf_counter() - started


async def floor_saga(client: Client, queue: str, run: str, i: int) -> float:
    """One floor saga through the bare client; seconds from the start to the ship result."""
    started = time.perf_counter()
    handle = await client.start_workflow(
        FloorWorkflow.run,
        FloorInput(order_number=f"F-{run}-{i}"),
        id=f"floor-{run}-{i}",
        task_queue=queue,
    )
    while await handle.query(FloorWorkflow.status) != "ready":
        await asyncio.sleep(POLL)
    for update in (FloorWorkflow.accept, FloorWorkflow.pick, FloorWorkflow.pack):
        await handle.execute_update(update, FloorStep(step="wms"))
    assert await handle.execute_update(FloorWorkflow.ship, FloorStep(step="wms")) == "shipped"
    return time.perf_counter() - started


@dataclass(frozen=True, kw_only=True)
class Measured:
    per_second: float
    cpu: dict[str, float]  # ms per item, by process
    seconds: list[float]  # each item's latency, when it has one

    @property
    def cpu_total(self) -> float:
        return sum(self.cpu.values())

    def latency(self) -> str:
        p50, p99 = (percentile(self.seconds, f) * 1000 for f in (0.5, 0.99))
        return f"p50 {p50:6.0f} ms, p99 {p99:6.0f} ms"


async def measure(
    stack: Stack, count: int, concurrency: int, one: Callable[[int], Awaitable[Any]]
) -> Measured:
    meter = stack.meter()
    meter.start()
    per_second, results = await pool(count, concurrency, one)
    latencies = [r for r in results if isinstance(r, float)]
    return Measured(per_second=per_second, cpu=meter.spent(count), seconds=latencies)


def starting_at(
    first: int, one: Callable[[int], Awaitable[None]]
) -> Callable[[int], Awaitable[None]]:
    """`one` numbering its items from `first`."""
    return lambda i: one(first + i)


def combined(turns: list[Measured]) -> Measured:
    """Turns of one size as one measurement: items over the summed time, mean CPU."""
    return Measured(
        per_second=len(turns) / sum(1 / t.per_second for t in turns),
        cpu={name: sum(t.cpu[name] for t in turns) / len(turns) for name in turns[0].cpu},
        seconds=[s for t in turns for s in t.seconds],
    )


def target(ratio: float, met: bool, goal: str) -> str:
    return f"ratio {ratio:.2f} (target {goal}: {'met' if met else 'NOT met'})"


async def saga_bench(stack: Stack, orders: int, concurrency: int, profile: bool) -> None:
    client, run = stack.env.client, uuid.uuid4().hex[:6]
    floor_queue = stack.settings.temporal_task_queue + "-floor"
    # stock for every order: 2 lines x N, far more than the seed has
    restock = {
        "warehouse": "BER",
        "location": "A-02",
        "lines": [{"sku": sku, "quantity": orders * 2} for _, sku, _ in LINES],
    }
    received = await stack.api.post(
        "/v1/inventory/receipts", json=restock, headers=stack.headers(Role.WMS, run)
    )
    assert received.is_success, received.text
    floor_worker = Worker(  # on the runner ours has: the sandbox or not
        client,
        task_queue=floor_queue,
        workflows=[FloorWorkflow],
        activities=[do_nothing],
        workflow_runner=workflow_runner(stack.settings.workflow_sandbox),
    )
    queue = Queue(stack)
    watching = asyncio.ensure_future(queue.watch())
    pids = {"this process": os.getpid()} | {n: p.pid for n, p in stack.processes.items()}
    measured: dict[str, list[Measured]] = {"floor": [], "ours": []}
    async with floor_worker:
        await pool(4, 4, lambda i: floor_saga(client, floor_queue, "warm" + run, i))
        await pool(4, 4, lambda i: saga_through_api(stack, queue, "warm" + run, i))
        # In turns, floor-ours-ours-floor: a drift of the machine's speed or of the
        # in-memory server's (it slows as runs pile up) weighs on both alike.
        for turn, name in enumerate(SAGA_TURNS):
            tag = f"{run}-{turn}"
            one: Callable[[int], Awaitable[float]] = (
                functools.partial(floor_saga, client, floor_queue, tag)
                if name == "floor"
                else functools.partial(saga_through_api, stack, queue, tag)
            )
            watched = profile and name == "ours" and not measured["ours"]  # its first turn
            with profiled(stack.root / "saga", pids) if watched else contextlib.nullcontext():
                measured[name].append(await measure(stack, max(1, orders // 2), concurrency, one))
    watching.cancel()
    floor, ours = combined(measured["floor"]), combined(measured["ours"])
    speed, cpu = ours.per_second / floor.per_second, ours.cpu_total / floor.cpu_total
    print(
        f"saga: {orders} orders of {len(LINES)} lines, {concurrency} at a time\n"
        f"  orders/s: floor {floor.per_second:5.1f} | ours {ours.per_second:5.1f} | "
        f"{target(speed, speed >= 0.5, '>= 0.5')}\n"
        f"{cpu_line('floor CPU', floor.cpu)}\n{cpu_line('ours  CPU', ours.cpu)}\n"
        f"  CPU per order, ours / floor: {target(cpu, cpu <= 1.6, '<= 1.6')}\n"
        f"  order to shipped: floor {floor.latency()} | ours {ours.latency()}"
    )


async def start_rate_bench(stack: Stack, starts: int, concurrency: int) -> None:
    """POST /v1/orders against bare start_workflow, with no worker polling the queue."""
    idle_queue, run = stack.settings.temporal_task_queue + "-idle", uuid.uuid4().hex[:6]
    idle_api = await stack.api_on(idle_queue)
    floor_api = await stack.start_floor_on(idle_queue)
    tenant_id = 1  # the demo tenant, the first

    def order(number: str) -> OrderInput:
        return OrderInput(
            tenant_id=tenant_id,
            order_number=number,
            customer_id="bench",
            currency="EUR",
            lines=[
                OrderLineInput(line_id=line, sku=sku, quantity=1, unit_price=price)
                for line, sku, price in LINES
            ],
        )

    async def bare(i: int) -> None:
        number = f"S-{run}-{i}"
        await stack.env.client.start_workflow(
            OrderWorkflow.run,
            order(number),
            id=f"order:{tenant_id}:{number}",
            task_queue=idle_queue,
        )

    async def with_options(i: int) -> None:
        """A bare start with what the API's start asks of Temporal besides: its id
        policies, the memo (the request's hash) and the order's search attributes
        (api/workflow_calls.py `start_once`)."""
        number, placed = f"O-{run}-{i}", order(f"O-{run}-{i}")
        attributes = search_attributes.for_order(placed, OrderStatus.RECEIVED)
        await stack.env.client.start_workflow(
            OrderWorkflow.run,
            placed,
            id=f"order:{tenant_id}:{number}",
            task_queue=idle_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            memo={"request_hash": "0" * 64},
            search_attributes=TypedSearchAttributes(search_attributes.pairs(attributes)),
        )

    async def posted(i: int) -> None:
        body = order_body(f"P-{run}-{i}")
        response = await idle_api.post("/v1/orders", json=body, headers=stack.headers(Role.OMS))
        assert response.status_code == 201, response.text

    async def http_floor(i: int) -> None:
        """The same body and client to the fixed HTTP floor (bench/start_floor_api.py)."""
        body = order_body(f"H-{run}-{i}")
        response = await floor_api.post("/start", json=body, headers=stack.headers(Role.OMS))
        assert response.status_code == 201, response.text

    # In turns, each variant first in one: the in-memory server may slow as it keeps
    # more runs, so a variant always measured after the others would carry that alone.
    variants = {"bare": bare, "options": with_options, "http": http_floor, "post": posted}
    measured: dict[str, list[Measured]] = {name: [] for name in variants}
    turn = max(1, -(-starts // START_TURNS))  # each variant `starts` or a few more
    names = list(variants)
    async with idle_api, floor_api:
        # untimed: each HTTP door's first request (ours connects to Temporal then)
        await posted(-1)
        await http_floor(-1)
        for n in range(START_TURNS):
            for name in names[n:] + names[:n]:  # each variant first once
                numbered = starting_at(n * turn, variants[name])
                measured[name].append(await measure(stack, turn, concurrency, numbered))
    bare_starts, option_starts, http_starts, api_starts = (
        combined(measured[name]) for name in variants
    )
    ratio = api_starts.per_second / bare_starts.per_second
    options = option_starts.per_second / bare_starts.per_second
    api_share = api_starts.per_second / option_starts.per_second
    http = http_starts.per_second / bare_starts.per_second
    ours = api_starts.per_second / http_starts.per_second
    print(
        f"start: bare start_workflow {bare_starts.per_second:6.1f}/s | "
        f"POST /v1/orders {api_starts.per_second:6.1f}/s | {target(ratio, ratio >= 0.9, '>= 0.9')}\n"
        f"  of which: bare start with the API's memo and search attributes "
        f"{option_starts.per_second:6.1f}/s ({options:.2f} of bare); POST / that {api_share:.2f}\n"
        f"  HTTP floor (one FastAPI route, that start; same client): "
        f"{http_starts.per_second:6.1f}/s ({http:.2f} of bare); POST / that {ours:.2f} (no target)\n"
        f"{cpu_line('bare', bare_starts.cpu, 'start', 1)}\n"
        f"{cpu_line('options', option_starts.cpu, 'start', 1)}\n"
        f"{cpu_line('HTTP floor', http_starts.cpu, 'start', 1)}\n"
        f"{cpu_line('POST', api_starts.cpu, 'start', 1)}"
    )


async def main(args: argparse.Namespace) -> int:
    async with running_stack(args.deployed, not args.unsandboxed) as stack:
        where = "API and worker in their own processes" if args.deployed else "all in one process"
        runner = "without the workflow sandbox" if args.unsandboxed else "workflows sandboxed"
        print(f"dev server in memory; {where}; {runner}\n")
        if args.hot:
            return await hot_bench(
                stack, args.hot_orders, args.hot_stock, args.concurrency, args.profile
            )
        await saga_bench(stack, args.orders, args.concurrency, args.profile)
        await start_rate_bench(stack, args.starts, args.concurrency)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--starts", type=int, default=900, help="starts of each kind in the start rate bench"
    )
    parser.add_argument(
        "--deployed", action="store_true", help="API and worker as their own processes"
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile our saga, or the hot run (top 25)"
    )
    parser.add_argument(
        "--unsandboxed",
        action="store_true",
        help="workers (ours and the floor's) without the workflow sandbox",
    )
    parser.add_argument("--hot", action="store_true", help="one hot SKU vs 100 SKUs instead")
    parser.add_argument("--hot-orders", type=int, default=1000, help="orders of 1 unit")
    parser.add_argument("--hot-stock", type=int, default=100, help="units of the hot SKU")
    code = asyncio.run(main(parser.parse_args()))
    os._exit(code)  # skip teardown of Temporal's core threads (sdk-python#300)
