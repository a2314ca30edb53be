"""Listing orders through the API: filtered by when they were placed."""

import httpx

from domain.roles import Role
from tests.conftest import TenantKeys, unique
from tests.e2e.test_orders_api import PROBLEM, _order, _until, shop

__all__ = ["shop"]  # the fixture, shared with test_orders_api


async def test_orders_are_listed_by_the_time_they_were_placed(
    api: httpx.AsyncClient, shop: TenantKeys
) -> None:
    oms, viewer = shop.auth(Role.OMS), shop.auth(Role.VIEWER)
    customer = unique("C")
    numbers = []
    for _ in range(2):
        body = _order([{"line_id": "1", "sku": "WIDGET", "quantity": 1}], customer_id=customer)
        assert (await api.post("/v1/orders", json=body, headers=oms)).status_code == 201
        await _until(api, shop, body["order_number"], "allocated")
        numbers.append(body["order_number"])

    async def listed(**params: str) -> list[str]:
        response = await api.get(
            "/v1/orders", params={"customer_id": customer, **params}, headers=viewer
        )
        assert response.status_code == 200, response.text
        return [order["order_number"] for order in response.json()["items"]]

    everything = (
        await api.get("/v1/orders", params={"customer_id": customer}, headers=viewer)
    ).json()["items"]
    assert [o["order_number"] for o in everything] == numbers[::-1]  # newest first
    first, second = (o["created_at"] for o in everything[::-1])
    assert first < second
    assert await listed(created_from=second) == [numbers[1]]
    assert await listed(created_to=second) == [numbers[0]]
    assert await listed(created_from=first, created_to=second) == [numbers[0]]

    backwards = await api.get(
        "/v1/orders", params={"created_from": second, "created_to": first}, headers=viewer
    )
    assert backwards.status_code == 422 and backwards.headers["content-type"] == PROBLEM
    assert "created_to" in backwards.text
    naive = await api.get("/v1/orders", params={"created_from": "2030-01-01T00:00"}, headers=viewer)
    assert naive.status_code == 422 and naive.headers["content-type"] == PROBLEM
