"""The WMS's queue read in pages: each page continues where the last ended, in the
queue's order, and every request says when the warehouse got it."""

import asyncio
from datetime import datetime
from typing import Any

import httpx
from temporalio.worker import Worker

from domain.roles import Role
from tests.conftest import TenantKeys, unique
from tests.e2e.inventory_setup import build_catalogue, receive


async def _order(api: httpx.AsyncClient, tenant: TenantKeys, **extra: Any) -> str:
    number = unique("SO")
    body = {
        "order_number": number,
        "customer_id": "C-1",
        "currency": "EUR",
        "lines": [{"line_id": "1", "sku": "WIDGET", "quantity": 1, "unit_price": 1}],
        **extra,
    }
    created = await api.post("/v1/orders", json=body, headers=tenant.auth(Role.OMS))
    assert created.status_code == 201, created.text
    return number


async def _pages(api: httpx.AsyncClient, tenant: TenantKeys, query: str) -> list[list[Any]]:
    pages: list[list[Any]] = []
    cursor: str | None = None
    while True:
        more = f"&cursor={cursor}" if cursor else ""
        page = (
            await api.get(f"/v1/fulfillment-requests?{query}{more}", headers=tenant.auth(Role.WMS))
        ).json()
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages


async def test_the_queue_pages_by_priority_then_ship_date_with_a_cursor(
    api: httpx.AsyncClient, tenant: TenantKeys, dev_worker: Worker
) -> None:
    await build_catalogue(api, tenant)
    assert (await receive(api, tenant, "WIDGET", 10)).status_code == 201
    later = await _order(api, tenant, priority=5)
    undated = await _order(api, tenant, priority=1)
    dated = await _order(api, tenant, priority=1, requested_ship_at="2031-01-01T00:00:00Z")
    everything: list[Any] = []
    for _ in range(200):
        everything = (await _pages(api, tenant, "warehouse=WH1&sort=priority&limit=100"))[0]
        if len(everything) == 3:
            break
        await asyncio.sleep(0.1)
    assert [r["order_number"] for r in everything] == [dated, undated, later]
    for r in everything:
        assert datetime.fromisoformat(r["created_at"]).tzinfo is not None

    pages = await _pages(api, tenant, "warehouse=WH1&sort=priority&limit=1")
    assert [[r["order_number"] for r in page] for page in pages] == [[dated], [undated], [later]]
    by_age = await _pages(api, tenant, "warehouse=WH1&limit=2")
    assert [len(page) for page in by_age] == [2, 1]
    oldest_first = [r for page in by_age for r in page]
    assert {r["order_number"] for r in oldest_first} == {dated, undated, later}
    times = [datetime.fromisoformat(r["created_at"]) for r in oldest_first]
    assert times == sorted(times)

    bad = await api.get(
        "/v1/fulfillment-requests?cursor=bm90LWEtY3Vyc29y", headers=tenant.auth(Role.WMS)
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


async def test_status_open_lists_the_requests_not_yet_shipped_or_canceled(
    api: httpx.AsyncClient, tenant: TenantKeys, dev_worker: Worker
) -> None:
    await build_catalogue(api, tenant)
    assert (await receive(api, tenant, "WIDGET", 10)).status_code == 201
    kept, canceled = await _order(api, tenant), await _order(api, tenant)
    statuses: dict[str, str] = {}
    for _ in range(200):
        everything = (await _pages(api, tenant, "warehouse=WH1"))[0]
        statuses = {r["order_number"]: r["status"] for r in everything}
        if len(statuses) == 2:
            break
        await asyncio.sleep(0.1)
    assert set(statuses) == {kept, canceled}
    cancel = await api.post(
        f"/v1/orders/{canceled}/cancel", json={"reason": "test"}, headers=tenant.auth(Role.OMS)
    )
    assert cancel.status_code == 200, cancel.text
    for _ in range(200):
        everything = (await _pages(api, tenant, "warehouse=WH1"))[0]
        statuses = {r["order_number"]: r["status"] for r in everything}
        if statuses[canceled] == "canceled":
            break
        await asyncio.sleep(0.1)
    assert statuses == {kept: "requested", canceled: "canceled"}
    open_ = (await _pages(api, tenant, "warehouse=WH1&status=open"))[0]
    assert [r["order_number"] for r in open_] == [kept]
    done = (await _pages(api, tenant, "warehouse=WH1&status=canceled"))[0]
    assert [r["order_number"] for r in done] == [canceled]
