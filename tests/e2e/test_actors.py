"""Who did it: the movements a warehouse confirmation books name the API key that
confirmed it in the ledger, not the workflow that carried it out."""

from __future__ import annotations

import asyncio
from typing import Any

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
    assert (await receive(api, tenant, "WIDGET", 10)).status_code == 201
    return tenant


async def _actor_of(api: httpx.AsyncClient, tenant: TenantKeys, role: Role) -> str:
    me = (await api.get("/v1/me", headers=tenant.auth(role))).json()
    return f"key:{me['key_id']}"


async def _actors(api: httpx.AsyncClient, tenant: TenantKeys) -> dict[str, set[str]]:
    """Movement type: the actors that booked movements of it (this tenant's ledger)."""
    response = await api.get("/v1/inventory/movements?limit=500", headers=tenant.auth(Role.VIEWER))
    assert response.status_code == 200, response.text
    actors: dict[str, set[str]] = {}
    for movement in response.json()["items"]:
        actors.setdefault(movement["type"], set()).add(movement["actor"])
    return actors


async def _until_reserved(api: httpx.AsyncClient, tenant: TenantKeys, path: str) -> None:
    for _ in range(300):
        view = (await api.get(path, headers=tenant.auth(Role.VIEWER))).json()
        if view["status"] == "reserved":
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path} never became reserved: {view}")


async def _shipped_order(api: httpx.AsyncClient, tenant: TenantKeys) -> str:
    number = unique("SO")
    body: dict[str, Any] = {
        "order_number": number,
        "customer_id": "C-A",
        "currency": "EUR",
        "lines": [{"line_id": "1", "sku": "WIDGET", "quantity": 3}],
    }
    assert (await api.post("/v1/orders", json=body, headers=tenant.auth(Role.OMS))).is_success
    await _until(api, tenant, number, "allocated")
    await _fulfil_all(api, tenant, number)
    await _until(api, tenant, number, "shipped")
    return number


async def test_pick_and_ship_movements_name_the_wms_key_that_confirmed_them(
    api: httpx.AsyncClient, shop: TenantKeys
) -> None:
    await _shipped_order(api, shop)
    wms = await _actor_of(api, shop, Role.WMS)
    actors = await _actors(api, shop)
    assert actors["pick"] == {wms}
    assert actors["ship"] == {wms}


async def test_a_return_receipt_names_the_key_that_received_it(
    api: httpx.AsyncClient, shop: TenantKeys
) -> None:
    number = await _shipped_order(api, shop)
    oms, wms = shop.auth(Role.OMS), shop.auth(Role.WMS)
    rma = unique("RMA")
    claim = {"rma_number": rma, "reason": "broken", "lines": [{"line_id": "1", "quantity": 2}]}
    assert (await api.post(f"/v1/orders/{number}/returns", json=claim, headers=oms)).is_success
    assert (await api.post(f"/v1/returns/{rma}/approve", json={}, headers=oms)).is_success
    receipt = {
        "warehouse": "WH1",
        "location": "A2",
        "lines": [{"line_id": "1", "received": 2, "accepted": 2, "disposition": "restock"}],
    }
    received = await api.post(f"/v1/returns/{rma}/receive", json=receipt, headers=wms)
    assert received.status_code == 200, received.text
    assert (await _actors(api, shop))["return_restock"] == {await _actor_of(api, shop, Role.WMS)}


async def test_a_transfer_ship_and_receipt_name_the_keys_that_confirmed_them(
    api: httpx.AsyncClient, shop: TenantKeys
) -> None:
    number = unique("TR")
    body = {
        "transfer_number": number,
        "from_warehouse": "WH1",
        "to_warehouse": "WH2",
        "lines": [{"sku": "WIDGET", "quantity": 4}],
    }
    wms, admin = shop.auth(Role.WMS), shop.auth(Role.ADMIN)
    assert (await api.post("/v1/transfers", json=body, headers={**wms, **key()})).is_success
    path = f"/v1/transfers/{number}"
    await _until_reserved(api, shop, path)
    shipped = await api.post(f"{path}/ship", json={"carrier": "DHL"}, headers={**wms, **key()})
    assert shipped.status_code == 200, shipped.text
    # another key receives: each movement names its own confirmation's key
    receipt = {"location": "A1", "lines": [{"sku": "WIDGET", "received": 4}]}
    received = await api.post(f"{path}/receive", json=receipt, headers={**admin, **key()})
    assert received.status_code == 200, received.text
    actors = await _actors(api, shop)
    assert actors["transfer_out"] == {await _actor_of(api, shop, Role.WMS)}
    assert actors["transfer_in"] == {await _actor_of(api, shop, Role.ADMIN)}
