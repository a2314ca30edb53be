"""Items, warehouses and locations through the API."""

from typing import Any

import httpx

from domain.roles import Role
from tests.conftest import TenantKeys
from tests.e2e.inventory_setup import build_catalogue


async def test_catalogue_round_trip(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    await build_catalogue(api, tenant)
    viewer = tenant.auth(Role.VIEWER)
    fabric = (await api.get("/v1/items/FABRIC", headers=viewer)).json()
    assert fabric["uom"] == {
        "unit": "yd",
        "base_units_per_unit": 4,
        "min_increment": 0.25,
        "min_cut": 1,
        "rounding": "up",
    }
    warehouses = (await api.get("/v1/warehouses", headers=viewer)).json()["items"]
    assert [(w["code"], w["priority"]) for w in warehouses] == [("WH1", 1), ("WH2", 2)]
    locations = (await api.get("/v1/warehouses/WH1/locations", headers=viewer)).json()["items"]
    assert {(loc["code"], loc["pickable"]) for loc in locations} == {
        ("A1", True),
        ("A2", True),
        ("STAGE", False),
    }


async def test_items_page_with_a_cursor(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    await build_catalogue(api, tenant)
    viewer = tenant.auth(Role.VIEWER)
    first = (await api.get("/v1/items?limit=3", headers=viewer)).json()
    assert [i["sku"] for i in first["items"]] == ["FABRIC", "MILK", "PHONE"]
    rest = await api.get(f"/v1/items?limit=3&cursor={first['next_cursor']}", headers=viewer)
    assert [i["sku"] for i in rest.json()["items"]] == ["WIDGET"]
    assert rest.json()["next_cursor"] is None
    bad = await api.get("/v1/items?cursor=!!", headers=viewer)
    assert bad.status_code == 422 and bad.json()["field"] == "cursor"


async def test_duplicates_conflict_and_a_key_replays(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    wms = tenant.auth(Role.WMS)
    body = {"code": "WH1", "name": "One"}
    first = await api.post("/v1/warehouses", json=body, headers={**wms, "Idempotency-Key": "k1"})
    again = await api.post("/v1/warehouses", json=body, headers={**wms, "Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    duplicate = await api.post("/v1/warehouses", json=body, headers=wms)
    assert duplicate.status_code == 409
    assert duplicate.json()["field"] == "code"


async def test_bad_item_definitions_are_refused_naming_the_field(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    wms = tenant.auth(Role.WMS)
    cases: dict[str, dict[str, Any]] = {
        "uom.min_increment": {"uom": {"base_units_per_unit": 4, "min_increment": 0.1}},
        "default_strategy": {"default_strategy": "fefo"},
        "backorder_limit": {"backorder_policy": "allow_until"},
        "track_serial": {
            "track_serial": True,
            "uom": {"base_units_per_unit": 2, "min_increment": 0.5},
        },
    }
    for field, extra in cases.items():
        response = await api.post("/v1/items", json={"sku": "X", "name": "x", **extra}, headers=wms)
        assert response.status_code == 422, (field, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["field"] == field
    missing = await api.post("/v1/items", json={"name": "no sku"}, headers=wms)
    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["body.sku"]
    listed = (await api.get("/v1/items", headers=tenant.auth(Role.VIEWER))).json()["items"]
    assert listed == []


async def test_roles_and_tenants_on_the_catalogue(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    await build_catalogue(api, tenant)
    for role in (Role.VIEWER, Role.OMS):
        denied = await api.post(
            "/v1/items", json={"sku": "Y", "name": "y"}, headers=tenant.auth(role)
        )
        assert denied.status_code == 403
    stranger = other_tenant.auth(Role.ADMIN)
    assert (await api.get("/v1/items/WIDGET", headers=stranger)).status_code == 404
    assert (await api.get("/v1/warehouses/WH1", headers=stranger)).status_code == 404
    assert (await api.get("/v1/warehouses", headers=stranger)).json()["items"] == []
    foreign = await api.post(
        "/v1/warehouses/WH1/locations", json={"code": "Z", "type": "bin"}, headers=stranger
    )
    assert foreign.status_code == 404 and foreign.json()["field"] == "warehouse"
