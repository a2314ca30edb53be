"""Inventory health through the API: every status, filters, sorts, cursor pages, the
CSV export equal to the JSON rows, bad parameters refused, tenants apart."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.inventory_health import HealthFilter, Sort, stream_health
from domain.roles import Role
from tests.conftest import TenantKeys
from tests.e2e.inventory_setup import build_catalogue, key, receive
from tests.e2e.replenishment_setup import (
    assert_reconciled,
    backordered_line,
    history_days,
    seed_demand,
    set_item,
    tenant_id,
)

HEALTH = "/v1/inventory/health"
PROBLEM = "application/problem+json"


async def reserve(api: httpx.AsyncClient, tenant: TenantKeys, sku: str, quantity: int) -> None:
    response = await api.post(
        "/v1/inventory/reservations",
        json={"warehouse": "WH1", "sku": sku, "quantity": quantity, "source_type": "pos"},
        headers={**tenant.auth(Role.WMS), **key()},
    )
    assert response.status_code == 201, response.text


@pytest.fixture
async def stocked(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], tenant: TenantKeys
) -> TenantKeys:
    """One SKU at WH1 per status (and WIDGET at WH2 too)."""
    await build_catalogue(api, tenant)
    for sku, name in (("GADGET", "Gadget"), ("BOLT", "Bolt"), ("CRATE", "Crate")):
        body = {"sku": sku, "name": name}
        created = await api.post("/v1/items", json=body, headers=tenant.auth(Role.WMS))
        assert created.status_code == 201, created.text
    await set_item(sessions, tenant, "FABRIC", low_stock_threshold=20)  # 5 yd
    await set_item(sessions, tenant, "CRATE", max_stock=50)
    for sku, quantity, warehouse in (
        ("WIDGET", 100, "WH1"),
        ("WIDGET", 7, "WH2"),
        ("FABRIC", 3, "WH1"),
        ("GADGET", 5, "WH1"),
        ("BOLT", 5, "WH1"),
        ("CRATE", 80, "WH1"),
    ):
        response = await receive(api, tenant, sku, quantity, warehouse=warehouse)
        assert response.status_code == 201, response.text
    await reserve(api, tenant, "GADGET", 5)
    await reserve(api, tenant, "BOLT", 5)
    await backordered_line(sessions, tenant, "BOLT", 3)
    # 60 shipped in the last 90 days: 2 a day for 30 days
    today = datetime.now(UTC).date()
    await seed_demand(sessions, tenant, "WIDGET", dict.fromkeys(history_days(today, 30), (2, 0)))
    return tenant


async def rows(api: httpx.AsyncClient, tenant: TenantKeys, query: str = "") -> list[Any]:
    response = await api.get(f"{HEALTH}?limit=500{query}", headers=tenant.auth(Role.VIEWER))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_each_status_is_produced_by_its_rule(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], stocked: TenantKeys
) -> None:
    found = {(r["sku"], r["warehouse"]): r for r in await rows(api, stocked)}

    assert {k: r["status"] for k, r in found.items()} == {
        ("BOLT", "WH1"): "backordered",  # nothing available, an order line waits
        ("CRATE", "WH1"): "overstock",  # 80 on hand > max 50
        ("FABRIC", "WH1"): "low_stock",  # 3 yd <= threshold 5 yd
        ("GADGET", "WH1"): "out_of_stock",  # all 5 reserved, nobody waits
        ("WIDGET", "WH1"): "in_stock",
        ("WIDGET", "WH2"): "in_stock",
    }
    widget = found[("WIDGET", "WH1")]
    # 60 over the 90-day window = 0.667 a day; 100 / 0.6667 = 150 days
    assert (widget["daily_demand"], widget["days_of_cover"]) == (0.667, 150.0)
    gadget = found[("GADGET", "WH1")]
    assert (gadget["on_hand"], gadget["reserved"], gadget["available"]) == (5, 5, 0)
    assert gadget["days_of_cover"] is None
    fabric = found[("FABRIC", "WH1")]
    assert (fabric["unit"], fabric["available"], fabric["low_stock_threshold"]) == ("yd", 3, 5)
    for status in ("backordered", "overstock", "low_stock", "out_of_stock"):
        only = await rows(api, stocked, f"&status={status}")
        assert [r["status"] for r in only] == [status]
    await assert_reconciled(sessions, stocked)


async def test_q_searches_sku_and_name_and_warehouse_narrows(
    api: httpx.AsyncClient, stocked: TenantKeys
) -> None:
    assert [r["sku"] for r in await rows(api, stocked, "&q=fab")] == ["FABRIC"]
    assert [r["sku"] for r in await rows(api, stocked, "&q=gadg")] == ["GADGET"]
    assert [r["sku"] for r in await rows(api, stocked, "&q=%25")] == []  # no wildcard
    wh2 = await rows(api, stocked, "&warehouse=WH2")
    assert [(r["sku"], r["warehouse"]) for r in wh2] == [("WIDGET", "WH2")]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        # base units: WIDGET at WH2 7, FABRIC 12 (3 yd)
        ("available", ["BOLT", "GADGET", "WIDGET", "FABRIC", "CRATE", "WIDGET"]),
        ("-available", ["WIDGET", "CRATE", "FABRIC", "WIDGET", "GADGET", "BOLT"]),
        # no demand sorts as infinitely many days of cover
        ("days_of_cover", ["WIDGET", "BOLT", "CRATE", "FABRIC", "GADGET", "WIDGET"]),
        ("-sku", ["WIDGET", "WIDGET", "GADGET", "FABRIC", "CRATE", "BOLT"]),
    ],
)
async def test_sorted_pages_follow_the_cursor_to_the_same_order(
    api: httpx.AsyncClient, stocked: TenantKeys, sort: str, expected: list[str]
) -> None:
    viewer = stocked.auth(Role.VIEWER)
    seen, cursor = [], None
    while True:
        query = f"{HEALTH}?sort={sort}&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await api.get(query, headers=viewer)).json()
        seen += [r["sku"] for r in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break

    assert seen == expected
    assert seen == [r["sku"] for r in await rows(api, stocked, f"&sort={sort}")]


async def test_the_csv_export_holds_the_json_rows(
    api: httpx.AsyncClient, stocked: TenantKeys
) -> None:
    viewer = stocked.auth(Role.VIEWER)
    expected = await rows(api, stocked, "&sort=-available")

    by_format = await api.get(f"{HEALTH}?format=csv&sort=-available", headers=viewer)
    by_accept = await api.get(f"{HEALTH}?sort=-available", headers={**viewer, "Accept": "text/csv"})

    for response in (by_format, by_accept):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        header, *lines = list(csv.reader(io.StringIO(response.text)))
        assert header == list(expected[0])
        assert lines == [["" if v is None else str(v) for v in row.values()] for row in expected]


async def test_the_export_reads_the_result_in_batches(
    sessions: async_sessionmaker[AsyncSession], stocked: TenantKeys
) -> None:
    which = HealthFilter(q=None, warehouse=None, status=None, sort=Sort.SKU)
    today = datetime.now(UTC).date()
    async with sessions() as session, session.begin():
        batches = [
            [r.sku for r in batch]
            async for batch in stream_health(
                session,
                await tenant_id(sessions, stocked),
                which,
                today=today,
                history_days=90,
                batch=4,
            )
        ]

    # a server-side cursor hands out at most `batch` rows at a time
    assert batches == [["BOLT", "CRATE", "FABRIC", "GADGET"], ["WIDGET", "WIDGET"]]


@pytest.mark.parametrize(
    ("query", "field"),
    [("status=empty", "status"), ("sort=name", "sort"), ("format=xml", "format")],
)
async def test_a_bad_parameter_is_refused_naming_it(
    api: httpx.AsyncClient, tenant: TenantKeys, query: str, field: str
) -> None:
    response = await api.get(f"{HEALTH}?{query}", headers=tenant.auth(Role.VIEWER))

    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    assert field in response.text


async def test_a_cursor_of_another_sort_is_refused(
    api: httpx.AsyncClient, stocked: TenantKeys
) -> None:
    viewer = stocked.auth(Role.VIEWER)
    page = (await api.get(f"{HEALTH}?sort=available&limit=1", headers=viewer)).json()

    response = await api.get(f"{HEALTH}?sort=sku&cursor={page['next_cursor']}", headers=viewer)

    assert response.status_code == 422 and "cursor" in response.text


async def test_another_tenant_sees_none_of_these_rows(
    api: httpx.AsyncClient, stocked: TenantKeys, other_tenant: TenantKeys
) -> None:
    assert await rows(api, other_tenant) == []
    export = await api.get(f"{HEALTH}?format=csv", headers=other_tenant.auth(Role.VIEWER))
    assert export.text.splitlines()[1:] == []


async def test_the_health_view_needs_a_key(api: httpx.AsyncClient) -> None:
    assert (await api.get(HEALTH)).status_code == 401
