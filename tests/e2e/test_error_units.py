"""Errors speak the item's display unit: a refusal about fabric sold by the yard (and
stocked in quarter-yards) says "1.5 yd", whichever layer refused it."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from temporalio.worker import Worker

from domain.roles import Role
from tests.conftest import TenantKeys, unique
from tests.e2e.inventory_setup import build_catalogue, key, receive
from tests.e2e.test_orders_api import _fulfil_all, _until


@pytest.fixture
async def shop(api: httpx.AsyncClient, tenant: TenantKeys, dev_worker: Worker) -> TenantKeys:
    await build_catalogue(api, tenant)
    assert (await receive(api, tenant, "FABRIC", 5)).status_code == 201
    return tenant


async def _allocated_order(api: httpx.AsyncClient, tenant: TenantKeys) -> tuple[str, str]:
    """An order of 1.5 yd FABRIC, allocated: (number, its fulfillment request)."""
    number = unique("SO")
    body = {
        "order_number": number,
        "customer_id": "C-1",
        "currency": "EUR",
        "lines": [{"line_id": "1", "sku": "FABRIC", "quantity": 1.5, "unit_price": 4}],
    }
    assert (await api.post("/v1/orders", json=body, headers=tenant.auth(Role.OMS))).is_success
    order = await _until(api, tenant, number, "allocated")
    return number, order["fulfillment_requests"][0]["id"]


async def test_a_pick_over_the_allocation_is_refused_in_yards(
    api: httpx.AsyncClient, shop: TenantKeys
) -> None:
    wms = shop.auth(Role.WMS)
    _, rid = await _allocated_order(api, shop)
    assert (await api.post(f"/v1/fulfillment-requests/{rid}/accept", headers=wms)).is_success
    over = await api.post(
        f"/v1/fulfillment-requests/{rid}/pick",
        headers=wms,
        json={"lines": [{"line_id": "1", "quantity": 1.75}]},
    )
    assert over.status_code == 409, over.text
    assert "1.75 yd picked, but 1.5 yd allocated" in over.json()["detail"]
    picked = await api.post(
        f"/v1/fulfillment-requests/{rid}/pick",
        headers=wms,
        json={"lines": [{"line_id": "1", "quantity": 1.5}]},
    )
    assert picked.is_success, picked.text
    package = {"package_number": "P1", "lines": [{"line_id": "1", "quantity": 1.25}]}
    short = await api.post(
        f"/v1/fulfillment-requests/{rid}/pack", headers=wms, json={"packages": [package]}
    )
    assert short.status_code == 409, short.text
    assert "line '1' 1.5 yd picked, 1.25 yd packed" in short.json()["detail"]


async def test_a_return_beyond_what_shipped_is_refused_in_yards(
    api: httpx.AsyncClient, shop: TenantKeys
) -> None:
    number, _ = await _allocated_order(api, shop)
    await _fulfil_all(api, shop, number)
    await _until(api, shop, number, "shipped")
    body = {"rma_number": unique("RMA"), "reason": "x", "lines": [{"line_id": "1", "quantity": 2}]}
    refused = await api.post(f"/v1/orders/{number}/returns", json=body, headers=shop.auth(Role.OMS))
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"] == (
        "line '1': 2 yd asked, 1.5 yd returnable (shipped 1.5 yd, already returned or "
        "requested 0 yd)"
    )


async def test_a_receipt_beyond_what_a_transfer_shipped_is_refused_in_yards(
    api: httpx.AsyncClient, shop: TenantKeys
) -> None:
    wms = shop.auth(Role.WMS)
    number = unique("TR")
    body = {
        "transfer_number": number,
        "from_warehouse": "WH1",
        "to_warehouse": "WH2",
        "lines": [{"sku": "FABRIC", "quantity": 1.5}],
    }
    assert (await api.post("/v1/transfers", json=body, headers={**wms, **key()})).is_success
    path = f"/v1/transfers/{number}"
    for _ in range(200):
        shipped = await api.post(f"{path}/ship", json={"carrier": "DHL"}, headers={**wms, **key()})
        if shipped.status_code == 200:
            break
        await asyncio.sleep(0.05)  # still reserving
    assert shipped.status_code == 200, shipped.text
    receipt = {"location": "A1", "lines": [{"sku": "FABRIC", "received": 2}]}
    over = await api.post(f"{path}/receive", json=receipt, headers={**wms, **key()})
    assert over.status_code == 409, over.text
    assert (
        "2 yd received, but only 1.5 yd of 1.5 yd shipped is outstanding" in over.json()["detail"]
    )


async def test_a_release_beyond_a_reservation_is_refused_in_yards(
    api: httpx.AsyncClient, shop: TenantKeys
) -> None:
    wms = shop.auth(Role.WMS)
    body = {"warehouse": "WH1", "sku": "FABRIC", "quantity": 1.5}
    reserved = await api.post("/v1/inventory/reservations", json=body, headers={**wms, **key()})
    assert reserved.status_code == 201, reserved.text
    rid = reserved.json()["id"]
    over = await api.post(
        f"/v1/inventory/reservations/{rid}/release", json={"quantity": 2}, headers={**wms, **key()}
    )
    assert over.status_code == 422, over.text
    assert over.json()["detail"] == "quantity 2 yd exceeds the 1.5 yd still open"
    short = await api.post(
        "/v1/inventory/reservations", headers={**wms, **key()}, json={**body, "quantity": 4}
    )
    assert short.status_code == 409 and "needs 4 yd, 3.5 yd available" in short.json()["detail"]
