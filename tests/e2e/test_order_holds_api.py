"""Holds hold at every stage, through the API: a fraud hold placed after allocation
refuses the warehouse's steps (409 naming it) until released; the order ships once."""

import httpx

from domain.roles import Role
from tests.conftest import TenantKeys
from tests.e2e.test_orders_api import PROBLEM, _order, _until, shop

__all__ = ["shop"]  # the fixture, shared with test_orders_api


async def test_a_fraud_hold_after_allocation_refuses_pick_and_ship_until_released(
    api: httpx.AsyncClient, shop: TenantKeys
) -> None:
    oms, wms = shop.auth(Role.OMS), shop.auth(Role.WMS)
    body = _order([{"line_id": "1", "sku": "WIDGET", "quantity": 2, "unit_price": 9.5}])
    assert (await api.post("/v1/orders", json=body, headers=oms)).status_code == 201
    number = body["order_number"]
    order = await _until(api, shop, number, "allocated")
    rid = order["fulfillment_requests"][0]["id"]
    step = f"/v1/fulfillment-requests/{rid}"
    assert (await api.post(f"{step}/accept", headers=wms)).status_code == 200

    held = await api.post(
        f"/v1/orders/{number}/holds", json={"code": "fraud", "reason": "card flagged"}, headers=oms
    )
    assert held.status_code == 201, held.text
    hold = held.json()
    assert (hold["code"], hold["blocks"], hold["active"]) == ("fraud", "fulfillment", True)
    pick = {"lines": [{"line_id": "1", "quantity": 2}]}
    refused = await api.post(f"{step}/pick", json=pick, headers=wms)
    assert refused.status_code == 409 and refused.headers["content-type"] == PROBLEM
    assert "fraud" in refused.json()["detail"] and hold["id"] in refused.json()["detail"]
    assert (await _until(api, shop, number, "on_hold"))["lines"][0]["picked"] == 0

    release = f"/v1/orders/{number}/holds/{hold['id']}/release"
    assert (await api.post(release, headers=oms)).status_code == 200
    assert (await api.post(f"{step}/pick", json=pick, headers=wms)).status_code == 200
    package = {"package_number": "P1", "lines": [{"line_id": "1", "quantity": 2}]}
    assert (
        await api.post(f"{step}/pack", json={"packages": [package]}, headers=wms)
    ).status_code == 200

    again = await api.post(
        f"/v1/orders/{number}/holds", json={"code": "fraud", "reason": "second look"}, headers=oms
    )
    ship = {"carrier": "DHL", "tracking_numbers": ["00340434"]}
    refused = await api.post(f"{step}/ship", json=ship, headers=wms)
    assert refused.status_code == 409 and again.json()["id"] in refused.json()["detail"]
    release = f"/v1/orders/{number}/holds/{again.json()['id']}/release"
    assert (await api.post(release, headers=oms)).status_code == 200
    assert (await api.post(f"{step}/ship", json=ship, headers=wms)).status_code == 200
    assert (await api.post(f"{step}/ship", json=ship, headers=wms)).status_code == 409

    final = await _until(api, shop, number, "shipped")
    assert len(final["shipments"]) == 1 and final["lines"][0]["shipped"] == 2
    availability = (await api.get("/v1/inventory/availability?sku=WIDGET", headers=wms)).json()
    level = availability["items"][0]
    assert (level["on_hand"], level["reserved"], level["allocated"]) == (8, 0, 0)  # moved once
    late = await api.post(
        f"/v1/orders/{number}/holds", json={"code": "fraud", "reason": "late"}, headers=oms
    )
    assert late.status_code == 409 and late.headers["content-type"] == PROBLEM
