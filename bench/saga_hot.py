"""The hot-SKU bench of bench/saga.py (`--hot`): many orders at once for the few units
of one SKU, against the same orders spread over 100 SKUs that each have enough.

Hot: a fresh SKU (POST /v1/items) with exactly `stock` units received (100 by default,
POST /v1/inventory/receipts), then `orders` orders (1,000 by default) of 1 unit each,
placed through POST /v1/orders `concurrency` at a time while the worker already works
on the first ones. The run ends when GET /v1/orders (the projection, which asks no
workflow and so does not load the worker it measures) shows every order settled:
nothing pending and nothing reserved that is not yet allocated (it got its stock: the
unit is allocated), or it ended (rejected, canceled) or waits (backordered). Exactly
`stock` orders must get stock, no more and no fewer: the bench says OK or FAILED and
exits with status 1 on FAILED; the SKU's balance must then show all of it allocated.
The tally reads each order's live state after the run (GET /v1/orders/{n}, not timed;
a 503, its query timing out on a busy worker, is counted and read again).

Policies: the item's defaults. Its backorder policy is `deny` (the default of POST
/v1/items and of the catalogue's ItemSpec), so an order that finds no stock is
rejected (its line canceled); none is backordered. The order's fulfillment policy is
the default, `ship_complete`; payment is authorized, so reserve and allocate follow
each other without waiting.

The warehouse steps (accept, pick, pack, ship) are not driven: the contention of one
hot SKU is in reserve and allocate; the saga bench measures the rest.

Spread: the same number of orders over 100 fresh SKUs (orders / 100 each), every SKU
with exactly enough stock for its orders, so every order must get stock. The ratio
hot / spread of the settled orders per second has the target >= 0.5.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bench.saga_stack import Stack, pool, profiled
from domain.roles import Role

SPREAD_SKUS = 100
POLL = 0.5  # seconds between two looks at the unsettled orders
HOLDING = ("reserved", "allocated", "picked", "packed", "shipped")  # buckets with stock


@dataclass(frozen=True, kw_only=True)
class Settled:
    """How a run of orders ended: settled orders per second, and how many of them got
    stock, were rejected, backordered or ended otherwise (by status)."""

    per_second: float
    got_stock: int
    rejected: int
    backordered: int
    other: dict[str, int]
    unavailable: int  # reads answered 503 (the order's query timed out)

    def describe(self) -> str:
        others = "".join(f", {n} {status}" for status, n in sorted(self.other.items()))
        return (
            f"{self.per_second:6.1f} orders settled/s; {self.got_stock} got stock, "
            f"{self.rejected} rejected, {self.backordered} backordered{others}"
            + (f"; {self.unavailable} reads answered 503" if self.unavailable else "")
        )


def _quantity(line: dict[str, Any], bucket: str) -> Decimal:
    return Decimal(str(line.get(bucket, 0)))


def settled(order: dict[str, Any]) -> bool:
    """Nothing is left to decide: no line pending, none reserved and not yet allocated."""
    open_ = any(_quantity(x, "pending") or _quantity(x, "reserved") for x in order["lines"])
    return order["status"] != "received" and not open_


def got_stock(order: dict[str, Any]) -> bool:
    return any(_quantity(x, bucket) for x in order["lines"] for bucket in HOLDING)


async def create_skus(stack: Stack, skus: list[str], units: int, key: str) -> None:
    """Fresh items with the default policies, and `units` of each received in BER."""
    admin = stack.headers(Role.ADMIN)
    for sku in skus:
        created = await stack.api.post("/v1/items", json={"sku": sku, "name": sku}, headers=admin)
        assert created.status_code == 201, created.text
    receipt = {
        "warehouse": "BER",
        "location": "A-02",
        "lines": [{"sku": sku, "quantity": units} for sku in skus],
    }
    received = await stack.api.post(
        "/v1/inventory/receipts", json=receipt, headers=stack.headers(Role.WMS, key)
    )
    assert received.is_success, received.text


async def place_and_settle(stack: Stack, skus: list[str], prefix: str, concurrency: int) -> Settled:
    """One order of 1 unit per entry of `skus` (order i for skus[i]); all placed, then
    watched until every one settled: orders settled per second from the first POST.
    Then (not timed) each is read with GET /v1/orders/{n} for the tally."""
    api, oms = stack.api, stack.headers(Role.OMS)
    customer = f"bench-{prefix}"  # the run's orders, and only they

    async def place(i: int) -> None:
        body = {
            "order_number": f"{prefix}-{i}",
            "customer_id": customer,
            "currency": "EUR",
            "lines": [{"line_id": "1", "sku": skus[i], "quantity": 1, "unit_price": 1}],
        }
        response = await api.post("/v1/orders", json=body, headers=oms)
        assert response.status_code == 201, response.text

    started = time.perf_counter()
    await pool(len(skus), concurrency, place)
    while await count_settled(stack, customer) < len(skus):
        await asyncio.sleep(POLL)
    per_second = len(skus) / (time.perf_counter() - started)
    unavailable = 0

    async def outcome(i: int) -> dict[str, Any]:
        nonlocal unavailable
        while True:
            response = await api.get(f"/v1/orders/{prefix}-{i}", headers=oms)
            if response.status_code == 503:  # the query timed out: the worker is busy
                unavailable += 1
            else:
                assert response.status_code == 200, response.text
                order: dict[str, Any] = response.json()
                if settled(order):
                    return order
            await asyncio.sleep(POLL)

    _, orders = await pool(len(skus), concurrency, outcome)
    statuses = [o["status"] for o in orders if not got_stock(o)]
    other: dict[str, int] = {}
    for status in statuses:
        if status not in ("rejected", "backordered"):
            other[status] = other.get(status, 0) + 1
    return Settled(
        per_second=per_second,
        got_stock=sum(1 for o in orders if got_stock(o)),
        rejected=statuses.count("rejected"),
        backordered=sum(1 for o in orders if any(_quantity(x, "backordered") for x in o["lines"])),
        other=other,
        unavailable=unavailable,
    )


async def count_settled(stack: Stack, customer: str) -> int:
    """How many of the customer's orders have settled, by GET /v1/orders (the
    projection: a read of Postgres that asks no workflow, so the watching does not
    load the worker it measures)."""
    count, cursor = 0, ""
    while True:
        page = await stack.api.get(
            f"/v1/orders?customer_id={customer}&limit=500{cursor}",
            headers=stack.headers(Role.OMS),
        )
        assert page.status_code == 200, page.text
        count += sum(1 for order in page.json()["items"] if settled(order))
        if not page.json()["next_cursor"]:
            return count
        cursor = f"&cursor={page.json()['next_cursor']}"


async def balance(stack: Stack, sku: str) -> dict[str, Decimal]:
    """The SKU's on hand, reserved, allocated and available over every warehouse."""
    response = await stack.api.get(
        f"/v1/inventory/balances?sku={sku}", headers=stack.headers(Role.WMS)
    )
    assert response.status_code == 200, response.text
    rows = response.json()["items"]
    fields = ("on_hand", "reserved", "allocated", "available")
    return {f: sum((Decimal(str(row[f])) for row in rows), Decimal(0)) for f in fields}


def verdict(ok: bool) -> str:
    return "OK" if ok else "FAILED <<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<"


async def hot_bench(stack: Stack, orders: int, stock: int, concurrency: int, profile: bool) -> int:
    """Runs the spread bench, then the hot one; prints both and the ratio. Returns the
    exit status: 1 when the hot SKU did not promise exactly min(orders, stock)."""
    run = uuid.uuid4().hex[:6].upper()
    hot_sku, warm_sku = f"HOT-{run}", f"WARM-{run}"
    spread = [f"SPREAD-{run}-{k:03d}" for k in range(SPREAD_SKUS)]
    per_sku = -(-orders // SPREAD_SKUS)  # enough for every order of the spread
    await create_skus(stack, [hot_sku], stock, f"hot-{run}")
    await create_skus(stack, [warm_sku, *spread], per_sku, f"spread-{run}")
    await place_and_settle(stack, [warm_sku] * min(8, per_sku), f"W-{run}", concurrency)
    print(
        f"hot SKU: {orders} orders of 1 unit, {concurrency} placed at a time; backorder "
        f"policy deny (the item's default), fulfillment policy ship_complete; reserve and "
        f"allocate only (no warehouse steps)"
    )
    spread_run = await place_and_settle(
        stack, [spread[i % SPREAD_SKUS] for i in range(orders)], f"S-{run}", concurrency
    )
    spread_ok = spread_run.got_stock == orders
    print(f"  spread over {SPREAD_SKUS} SKUs ({per_sku} units each): {spread_run.describe()}")
    print(f"    every order got stock: {verdict(spread_ok)}")
    pids = {"this process": os.getpid()} | {n: p.pid for n, p in stack.processes.items()}
    with profiled(stack.root / "hot", pids) if profile else contextlib.nullcontext():
        hot = await place_and_settle(stack, [hot_sku] * orders, f"H-{run}", concurrency)
    expected = min(orders, stock)
    left = await balance(stack, hot_sku)
    hot_ok = hot.got_stock == expected and hot.got_stock + hot.rejected + hot.backordered == orders
    books_ok = left["allocated"] == expected and left["on_hand"] == stock
    print(f"  one SKU with {stock} units: {hot.describe()}")
    print(f"    exactly {expected} got stock, the rest rejected: {verdict(hot_ok)}")
    print(
        "    the SKU's balance: "
        + ", ".join(f"{name} {value}" for name, value in left.items())
        + f": {verdict(books_ok)}"
    )
    ratio = hot.per_second / spread_run.per_second
    met = "met" if ratio >= 0.5 else "NOT met"
    print(f"  throughput hot / spread: ratio {ratio:.2f} (target >= 0.5: {met})")
    return 0 if hot_ok and books_ok and spread_ok else 1
