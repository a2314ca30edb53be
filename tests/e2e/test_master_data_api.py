"""Master data that can change: items, warehouses and locations, field by field;
barcodes; what stock and open work forbid."""

from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Item, Tenant
from db.stock.reconcile import find_violations
from domain.roles import Role
from tests.conftest import TenantKeys
from tests.e2e.inventory_setup import build_catalogue, key, receive, snapshot

ADDRESS = {"name": "OMS Berlin", "lines": ["Lagerstrasse 1"], "city": "Berlin", "country": "DE"}


async def _item_row(
    sessions: async_sessionmaker[AsyncSession], tenant: TenantKeys, sku: str
) -> Item:
    async with sessions() as session:
        tenant_id = await session.scalar(select(Tenant.id).where(Tenant.slug == tenant.slug))
        item = await session.scalar(
            select(Item).where(Item.tenant_id == tenant_id, Item.sku == sku)
        )
        assert item is not None
        return item


async def _violations(sessions: async_sessionmaker[AsyncSession], tenant: TenantKeys) -> list[Any]:
    async with sessions() as session:
        tenant_id = await session.scalar(select(Tenant.id).where(Tenant.slug == tenant.slug))
        return await find_violations(session, tenant_id)


async def _patch(api: httpx.AsyncClient, tenant: TenantKeys, url: str, body: Any) -> httpx.Response:
    return await api.patch(url, json=body, headers=tenant.auth(Role.ADMIN))


async def test_an_item_changes_only_the_fields_given_in_its_display_unit(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await build_catalogue(api, tenant)
    before = (await api.get("/v1/items/FABRIC", headers=tenant.auth(Role.VIEWER))).json()
    changes = {
        "name": "Fabric, 150 cm",
        "reorder_point": 10.5,
        "lead_time_days": 7,
        "purchase_multiple": 2.5,
        "max_stock": 100,
        "default_supplier": "ACME",
        "suppliers": [{"supplier": "ACME", "lead_time_days": 5, "purchase_multiple": 25}],
        "barcodes": ["4006381333931"],
    }
    response = await _patch(api, tenant, "/v1/items/FABRIC", changes)
    assert response.status_code == 200, response.text
    after = (await api.get("/v1/items/FABRIC", headers=tenant.auth(Role.VIEWER))).json()
    assert after == response.json()
    assert {k: after[k] for k in changes} == changes
    untouched = {k: v for k, v in before.items() if k not in changes}
    assert {k: after[k] for k in untouched} == untouched
    row = await _item_row(sessions, tenant, "FABRIC")  # 4 base units per yard
    assert (row.reorder_point, row.purchase_multiple, row.max_stock) == (42, 10, 400)
    cleared = await _patch(api, tenant, "/v1/items/FABRIC", {"max_stock": None, "suppliers": []})
    assert cleared.json()["max_stock"] is None and cleared.json()["suppliers"] == []
    assert cleared.json()["barcodes"] == ["4006381333931"]


async def test_a_unit_change_is_refused_naming_uom_while_the_item_has_stock(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await build_catalogue(api, tenant)
    assert (await receive(api, tenant, "WIDGET", 5)).status_code == 201
    viewer = tenant.auth(Role.VIEWER)
    item_before = (await api.get("/v1/items/WIDGET", headers=viewer)).json()
    stock_before = await snapshot(api, tenant)
    refused = await _patch(api, tenant, "/v1/items/WIDGET", {"uom": {"unit": "box"}, "name": "W"})
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["field"] == "uom"
    assert "stock on hand" in refused.json()["detail"]
    tracking = await _patch(api, tenant, "/v1/items/WIDGET", {"track_lot": True})
    assert tracking.status_code == 409 and tracking.json()["field"] == "track_lot"
    assert (await api.get("/v1/items/WIDGET", headers=viewer)).json() == item_before
    assert await snapshot(api, tenant) == stock_before
    assert await _violations(sessions, tenant) == []


async def test_a_unit_change_without_stock_keeps_thresholds_in_the_display_unit(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await build_catalogue(api, tenant)
    admin = tenant.auth(Role.ADMIN)
    body = {"sku": "ROPE", "name": "Rope", "reorder_point": 3, "low_stock_threshold": 2}
    assert (await api.post("/v1/items", json=body, headers=admin)).status_code == 201
    reservation = {"warehouse": "WH1", "sku": "ROPE", "quantity": 1}
    short = await api.post(  # reads (and remembers) the unit as it is now
        "/v1/inventory/reservations", json=reservation, headers={**admin, **key()}
    )
    assert short.status_code == 409
    uom = {"unit": "m", "base_units_per_unit": 100, "min_increment": 0.01}
    changed = await _patch(api, tenant, "/v1/items/ROPE", {"uom": uom})
    assert changed.status_code == 200, changed.text
    assert changed.json()["uom"]["unit"] == "m" and changed.json()["reorder_point"] == 3
    row = await _item_row(sessions, tenant, "ROPE")
    assert (row.base_units_per_unit, row.reorder_point, row.low_stock_threshold) == (100, 300, 200)
    assert (await receive(api, tenant, "ROPE", 1.25)).status_code == 201
    balances = await api.get("/v1/inventory/balances?sku=ROPE", headers=admin)
    assert [b["on_hand"] for b in balances.json()["items"]] == [1.25]
    assert await _violations(sessions, tenant) == []


async def test_bad_changes_are_422_naming_the_field_and_change_nothing(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await build_catalogue(api, tenant)
    viewer = tenant.auth(Role.VIEWER)
    before = (await api.get("/v1/items/WIDGET", headers=viewer)).json()
    cases: list[tuple[str, dict[str, Any]]] = [
        ("body.name", {"name": None}),
        ("body.sku", {"sku": "OTHER"}),
        ("default_strategy", {"default_strategy": "fefo"}),
        ("max_stock", {"reorder_point": 10, "max_stock": 5}),
        ("body.lead_time_days", {"lead_time_days": -1}),
        ("barcodes.0", {"barcodes": ["4006381333932"]}),
        ("barcodes.1", {"barcodes": ["96385074", "12AB"]}),
        ("barcodes.1", {"barcodes": ["96385074", "96385074"]}),
        (
            "suppliers.1",
            {
                "suppliers": [
                    {"supplier": "A", "lead_time_days": 1},
                    {"supplier": "A", "lead_time_days": 2},
                ]
            },
        ),
    ]
    for field, body in cases:
        response = await _patch(api, tenant, "/v1/items/WIDGET", body)
        assert response.status_code == 422, (field, response.text)
        problem = response.json()
        named = [problem.get("field")] + [e["field"] for e in problem.get("errors", [])]
        assert field in named, (field, problem)
    assert (await api.get("/v1/items/WIDGET", headers=viewer)).json() == before


async def test_a_barcode_is_unique_per_tenant_and_finds_its_item(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    admin = tenant.auth(Role.ADMIN)
    first = {"sku": "CUP", "name": "Cup", "barcodes": ["4006381333931", "96385074"]}
    assert (await api.post("/v1/items", json=first, headers=admin)).status_code == 201
    clash = {"sku": "MUG", "name": "Mug", "barcodes": ["036000291452", "96385074"]}
    taken = await api.post("/v1/items", json=clash, headers=admin)
    assert taken.status_code == 409, taken.text
    assert taken.json()["field"] == "barcodes.1"
    assert "96385074" in taken.json()["detail"] and "CUP" in taken.json()["detail"]
    assert (await api.get("/v1/items/MUG", headers=admin)).status_code == 404
    bad = await api.post(
        "/v1/items", json={"sku": "MUG", "name": "Mug", "barcodes": ["036000291453"]}, headers=admin
    )
    assert bad.status_code == 422 and bad.json()["field"] == "barcodes.0"
    assert "check digit" in bad.json()["detail"]
    viewer = tenant.auth(Role.VIEWER)
    found = await api.get("/v1/items?barcode=96385074", headers=viewer)
    assert [i["sku"] for i in found.json()["items"]] == ["CUP"]
    direct = await api.get("/v1/items/by-barcode/4006381333931", headers=viewer)
    assert direct.json()["sku"] == "CUP"
    assert direct.json()["barcodes"] == ["4006381333931", "96385074"]
    missing = await api.get("/v1/items/by-barcode/036000291452", headers=viewer)
    assert missing.status_code == 404 and missing.json()["field"] == "code"
    stranger = other_tenant.auth(Role.ADMIN)
    assert (await api.get("/v1/items?barcode=96385074", headers=stranger)).json()["items"] == []
    theirs = {"sku": "CUP", "name": "Their cup", "barcodes": ["96385074"]}
    assert (await api.post("/v1/items", json=theirs, headers=stranger)).status_code == 201
    freed = await _patch(api, tenant, "/v1/items/CUP", {"barcodes": ["4006381333931"]})
    assert freed.status_code == 200 and freed.json()["barcodes"] == ["4006381333931"]
    moved = await api.post("/v1/items", json={**clash, "barcodes": ["96385074"]}, headers=admin)
    assert moved.status_code == 201, moved.text


async def test_a_warehouse_changes_and_is_not_deactivated_while_it_has_open_work(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await build_catalogue(api, tenant)
    changed = await _patch(
        api, tenant, "/v1/warehouses/WH2", {"name": "Hamburg", "priority": 7, "address": ADDRESS}
    )
    assert changed.status_code == 200, changed.text
    shown = (await api.get("/v1/warehouses/WH2", headers=tenant.auth(Role.VIEWER))).json()
    assert (shown["name"], shown["priority"], shown["address"]["city"]) == ("Hamburg", 7, "Berlin")
    bad = await _patch(api, tenant, "/v1/warehouses/WH2", {"address": {**ADDRESS, "country": "XX"}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.address.country"
    assert await receive(api, tenant, "WIDGET", 5)
    reservation = {"warehouse": "WH1", "sku": "WIDGET", "quantity": 2}
    headers = {**tenant.auth(Role.WMS), **key()}
    reserved = await api.post("/v1/inventory/reservations", json=reservation, headers=headers)
    assert reserved.status_code == 201, reserved.text
    busy = await _patch(api, tenant, "/v1/warehouses/WH1", {"active": False})
    assert busy.status_code == 409 and busy.json()["field"] == "active"
    assert "reserved" in busy.json()["detail"]
    shown = (await api.get("/v1/warehouses/WH1", headers=tenant.auth(Role.VIEWER))).json()
    assert shown["active"] is True
    idle = await _patch(api, tenant, "/v1/warehouses/WH2", {"active": False})
    assert idle.status_code == 200 and idle.json()["active"] is False
    refused = await api.post(
        "/v1/inventory/reservations",
        json={**reservation, "warehouse": "WH2"},
        headers={**headers, **key()},
    )
    assert refused.status_code == 422 and refused.json()["field"] == "lines.0.warehouse"
    assert await _violations(sessions, tenant) == []


async def test_a_location_changes_and_one_holding_stock_stays_active(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await build_catalogue(api, tenant)
    assert (await receive(api, tenant, "WIDGET", 5, location="A1")).status_code == 201
    url = "/v1/warehouses/WH1/locations"
    holding = await _patch(api, tenant, f"{url}/A1", {"active": False})
    assert holding.status_code == 409 and holding.json()["field"] == "active"
    child = await _patch(api, tenant, f"{url}/A2", {"parent_code": "A1", "pickable": False})
    assert child.status_code == 200, child.text
    assert (child.json()["parent_code"], child.json()["pickable"]) == ("A1", False)
    for parent in ("A2", "A1"):
        target = "A1" if parent == "A2" else "A2"
        cycle = await _patch(api, tenant, f"{url}/{target}", {"parent_code": parent})
        if target == "A2":  # A2's parent is already A1: setting it again is fine
            assert cycle.status_code == 200
            continue
        assert cycle.status_code == 422 and cycle.json()["field"] == "parent_code"
    itself = await _patch(api, tenant, f"{url}/A2", {"parent_code": "A2"})
    assert itself.status_code == 422 and itself.json()["field"] == "parent_code"
    elsewhere = await _patch(api, tenant, f"{url}/A2", {"parent_code": "NOPE"})
    assert elsewhere.status_code == 404 and elsewhere.json()["field"] == "parent_code"
    emptied = await _patch(api, tenant, f"{url}/A2", {"active": False, "parent_code": None})
    assert emptied.status_code == 200 and emptied.json()["active"] is False
    assert emptied.json()["parent_code"] is None
    staging = await _patch(api, tenant, f"{url}/STAGE", {"active": False})
    assert staging.status_code == 200
    alerts = await api.get("/v1/alerts?kind=setup", headers=tenant.auth(Role.VIEWER))
    assert [a["reference_id"] for a in alerts.json()["items"]] == ["WH1"]
    assert await _violations(sessions, tenant) == []


async def test_master_data_changes_are_for_admins_of_the_same_tenant(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    await build_catalogue(api, tenant)
    routes = [
        ("/v1/items/WIDGET", {"name": "x"}),
        ("/v1/warehouses/WH1", {"name": "x"}),
        ("/v1/warehouses/WH1/locations/A1", {"pickable": False}),
    ]
    for url, body in routes:
        for role in (Role.VIEWER, Role.WMS, Role.OMS):
            denied = await api.patch(url, json=body, headers=tenant.auth(role))
            assert denied.status_code == 403, (url, role)
        foreign = await api.patch(url, json=body, headers=other_tenant.auth(Role.ADMIN))
        assert foreign.status_code == 404, (url, foreign.text)
    csv = b"sku,name\nNEW,New\n"
    for role in (Role.VIEWER, Role.WMS):
        headers = {**tenant.auth(role), "Content-Type": "text/csv"}
        assert (await api.post("/v1/items/import", content=csv, headers=headers)).status_code == 403
    widget = (await api.get("/v1/items/WIDGET", headers=tenant.auth(Role.VIEWER))).json()
    assert widget["name"] == "Widget"


async def test_a_purchase_multiple_stored_in_base_units_survives_other_changes(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: async_sessionmaker[AsyncSession]
) -> None:
    admin = tenant.auth(Role.ADMIN)
    uom = {"unit": "box", "base_units_per_unit": 4, "min_increment": 1}
    body = {"sku": "BOXED", "name": "Boxed", "uom": uom}
    assert (await api.post("/v1/items", json=body, headers=admin)).status_code == 201
    row = await _item_row(sessions, tenant, "BOXED")
    assert row.purchase_multiple == 4  # one box
    async with sessions() as session, session.begin():  # as items made before the field
        await session.execute(update(Item).where(Item.id == row.id).values(purchase_multiple=1))
    renamed = await _patch(api, tenant, "/v1/items/BOXED", {"name": "Boxed goods"})
    assert renamed.status_code == 200, renamed.text
    assert (await _item_row(sessions, tenant, "BOXED")).purchase_multiple == 1
