"""A warehouse created with nothing but its code can serve orders: it gets a staging
area, and stock received at any of its locations ships."""

from __future__ import annotations

import httpx
from temporalio.worker import Worker

from domain.roles import Role
from tests.conftest import TenantKeys, unique
from tests.e2e.inventory_setup import key, receive
from tests.e2e.test_orders_api import _fulfil_all, _until


async def test_a_warehouse_created_with_no_locations_serves_an_order(
    api: httpx.AsyncClient, tenant: TenantKeys, dev_worker: Worker
) -> None:
    wms, viewer = tenant.auth(Role.WMS), tenant.auth(Role.VIEWER)
    item = {
        "sku": "FABRIC",
        "name": "Fabric",
        "uom": {"unit": "yd", "base_units_per_unit": 4, "min_increment": 0.25},
    }
    assert (await api.post("/v1/items", json=item, headers=wms)).status_code == 201
    created = await api.post("/v1/warehouses", json={"code": "NEW", "name": "bare"}, headers=wms)
    assert created.status_code == 201, created.text
    locations = (await api.get("/v1/warehouses/NEW/locations", headers=viewer)).json()["items"]
    assert [(x["code"], x["type"], x["pickable"]) for x in locations] == [
        ("STAGE", "staging", False)
    ]
    shelf = await api.post(
        "/v1/warehouses/NEW/locations", headers={**wms, **key()}, json={"code": "A1", "type": "bin"}
    )
    assert shelf.status_code == 201, shelf.text
    assert (await receive(api, tenant, "FABRIC", 3, warehouse="NEW")).status_code == 201

    number = unique("SO")
    body = {
        "order_number": number,
        "customer_id": "C-1",
        "currency": "EUR",
        "lines": [{"line_id": "1", "sku": "FABRIC", "quantity": 1.5, "unit_price": 4}],
    }
    assert (await api.post("/v1/orders", json=body, headers=tenant.auth(Role.OMS))).is_success
    await _until(api, tenant, number, "allocated")
    await _fulfil_all(api, tenant, number)
    shipped = await _until(api, tenant, number, "shipped")
    assert [x["shipped"] for x in shipped["lines"]] == [1.5]


async def test_a_warehouse_created_with_its_own_staging_location_keeps_it(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    wms, viewer = tenant.auth(Role.WMS), tenant.auth(Role.VIEWER)
    body = {
        "code": "OWN",
        "name": "own",
        "locations": [
            {"code": "Z", "type": "zone"},
            {"code": "Z-1", "type": "bin", "parent_code": "Z"},
            {"code": "OUT", "type": "staging"},
        ],
    }
    assert (await api.post("/v1/warehouses", json=body, headers=wms)).status_code == 201
    locations = (await api.get("/v1/warehouses/OWN/locations", headers=viewer)).json()["items"]
    assert [(x["code"], x["type"], x["parent_code"]) for x in locations] == [
        ("OUT", "staging", None),
        ("Z", "zone", None),
        ("Z-1", "bin", "Z"),
    ]
    # A bad location refuses the whole warehouse, naming the field.
    bad = {
        "code": "BAD",
        "name": "bad",
        "locations": [{"code": "A", "type": "bin"}, {"code": "A", "type": "bin"}],
    }
    refused = await api.post("/v1/warehouses", json=bad, headers=wms)
    assert refused.status_code == 409 and refused.json()["field"] == "locations.1.code"
    assert (await api.get("/v1/warehouses/BAD", headers=viewer)).status_code == 404
