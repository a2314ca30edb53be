"""A SKU's on hand by day and its daily demand, read from the ledger through the API:
per warehouse and for all of them, in the item's display unit; unknown SKUs and
warehouses and bad periods refused; another tenant sees nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.roles import Role
from tests.conftest import TenantKeys
from tests.e2e.inventory_setup import build_catalogue, key, receive
from tests.e2e.replenishment_setup import assert_reconciled, seed_demand, tenant_id

HISTORY = "/v1/inventory/on-hand-history"
PROBLEM = "application/problem+json"


async def backdate(
    sessions: async_sessionmaker[AsyncSession], tenant: TenantKeys, movement_id: int, day: date
) -> None:
    """Book a movement on an earlier day (noon UTC), as if it had happened then."""
    async with sessions() as session, session.begin():
        await session.execute(
            text("UPDATE movements SET created_at = :at WHERE id = :id AND tenant_id = :t"),
            {
                "at": datetime.combine(day, time(12), UTC),
                "id": movement_id,
                "t": await tenant_id(sessions, tenant),
            },
        )


async def history(api: httpx.AsyncClient, tenant: TenantKeys, **params: Any) -> httpx.Response:
    return await api.get(HISTORY, params=params, headers=tenant.auth(Role.VIEWER))


async def test_on_hand_history_follows_the_ledger_day_by_day_with_the_days_demand(
    api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], tenant: TenantKeys
) -> None:
    await build_catalogue(api, tenant)
    today = datetime.now(UTC).date()
    received = await receive(api, tenant, "WIDGET", 10)
    assert received.status_code == 201, received.text
    await backdate(sessions, tenant, received.json()["movements"][0]["id"], today - timedelta(3))
    wms = {**tenant.auth(Role.WMS), **key()}
    adjusted = await api.post(
        "/v1/inventory/adjustments",
        json={
            "warehouse": "WH1",
            "location": "A1",
            "sku": "WIDGET",
            "delta": -3,
            "reason": "found broken",
        },
        headers=wms,
    )
    assert adjusted.status_code == 201, adjusted.text
    await backdate(sessions, tenant, adjusted.json()["movements"][0]["id"], today - timedelta(1))
    moved = await api.post(
        "/v1/inventory/moves",
        json={
            "warehouse": "WH1",
            "from_location": "A1",
            "to_location": "A2",
            "sku": "WIDGET",
            "quantity": 2,
        },
        headers={**tenant.auth(Role.WMS), **key()},
    )
    assert moved.status_code == 201, moved.text  # inside a warehouse: on hand unchanged
    assert (await receive(api, tenant, "WIDGET", 4, warehouse="WH2")).status_code == 201
    await seed_demand(sessions, tenant, "WIDGET", {today - timedelta(2): (5, 1)})

    at_wh1 = await history(api, tenant, sku="WIDGET", warehouse="WH1", days=5)
    assert at_wh1.status_code == 200, at_wh1.text
    body = at_wh1.json()
    assert (body["sku"], body["warehouse"], body["unit"]) == ("WIDGET", "WH1", "ea")
    assert [d["day"] for d in body["days"]] == [
        (today - timedelta(n)).isoformat() for n in (4, 3, 2, 1, 0)
    ]
    assert [d["on_hand"] for d in body["days"]] == [0, 10, 10, 7, 7]
    assert [d["demand"] for d in body["days"]] == [0, 0, 4, 0, 0]

    everywhere = (await history(api, tenant, sku="WIDGET", days=2)).json()
    assert everywhere["warehouse"] is None
    assert [d["on_hand"] for d in everywhere["days"]] == [7, 11]
    default = (await history(api, tenant, sku="WIDGET")).json()
    assert len(default["days"]) == 30 and default["days"][-1]["on_hand"] == 11
    await assert_reconciled(sessions, tenant)


async def test_on_hand_history_is_in_the_items_display_unit(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await build_catalogue(api, tenant)
    assert (await receive(api, tenant, "FABRIC", 2.5)).status_code == 201
    body = (await history(api, tenant, sku="FABRIC", warehouse="WH1", days=1)).json()
    assert body["unit"] == "yd"
    assert body["days"] == [
        {"day": datetime.now(UTC).date().isoformat(), "on_hand": 2.5, "demand": 0}
    ]


async def test_on_hand_history_refuses_unknown_skus_and_warehouses_and_bad_periods(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    await build_catalogue(api, tenant)
    for params, status, field in (
        ({"sku": "NOPE"}, 404, "sku"),
        ({"sku": "WIDGET", "warehouse": "WH9"}, 404, "warehouse"),
        ({"sku": "WIDGET", "days": 0}, 422, "days"),
        ({"sku": "WIDGET", "days": 367}, 422, "days"),
        ({}, 422, "sku"),
    ):
        response = await history(api, tenant, **params)
        assert response.status_code == status, (params, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
        assert field in response.text
    # another tenant's SKU does not exist here
    assert (await history(api, other_tenant, sku="WIDGET")).status_code == 404
