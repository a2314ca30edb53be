"""The overview (each figure a link to its list) and the warehouse pages (the list,
one warehouse with its location tree, and the admin's forms) in a real browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from playwright.async_api import expect

from domain.roles import Role
from tests.browser.console import Console, text
from tests.conftest import TenantKeys, read_until, unique
from tests.e2e.inventory_setup import build_catalogue
from tests.e2e.overview_setup import busy_day, post


async def test_the_overview_shows_the_figures_and_each_card_links_to_its_filtered_list(
    console: Console, api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    page = console.page
    await console.sign_in(tenant.keys[Role.VIEWER])
    for empty in (
        "No orders created today",
        "No fulfillment request is waiting",
        "No order line is backordered",
        "No open alerts",
        "No transfer is in transit",
    ):
        await expect(page.get_by_text(empty)).to_be_visible()
    await expect(page.get_by_role("heading", name="Late purchase orders")).to_have_count(0)

    await busy_day(api, tenant)
    await console.open("/")
    today = datetime.now(UTC).date().isoformat()
    links = {
        "1 backordered": f"/console/orders?status=backordered&created_from={today}",
        "1 at WH1": "/console/queue?warehouse=WH1",
        "1 waiting for stock": "/console/backorders",
        "1 late po": "/console/alerts?kind=late_po",
        "1 in transit": "/console/transfers?status=in_transit",
        "1 past their expected date": "/console/alerts?kind=late_po",
    }
    for name, href in links.items():
        await expect(page.get_by_role("link", name=name, exact=True)).to_have_attribute(
            "href", href
        )
    await expect(page.get_by_role("listitem").filter(has_text="at WH1")).to_contain_text(
        text(r"oldest \d+ (s|min)")
    )
    await console.check("overview")

    await page.get_by_role("link", name="1 at WH1").click()
    await page.wait_for_url(f"{console.url}/queue?warehouse=WH1")


async def test_an_admin_creates_a_warehouse_and_a_child_location_and_sees_the_tree(
    console: Console, api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    page, code = console.page, unique("W")
    await console.sign_in(tenant.keys[Role.ADMIN], "/warehouses")
    await expect(page.get_by_text("No warehouses yet.")).to_be_visible()
    await page.get_by_label("Code").fill(code)
    await page.get_by_label("Name").fill("Hamburg")
    await page.get_by_label("Priority").fill("7")
    await page.get_by_role("button", name="Create warehouse").click()
    await console.expect_flash(f"Created warehouse {code}")
    assert page.url == f"{console.url}/warehouses/{code}"
    await expect(page.get_by_role("heading", name=f"Warehouse {code}")).to_be_visible()

    async def create_location(location: str, type_: str, parent: str) -> None:
        await page.get_by_label("Location code").fill(location)
        await page.get_by_label("Type").select_option(type_)
        await page.get_by_label("Inside").select_option(parent)
        await page.get_by_role("button", name="Create location").click()

    await create_location("ZONE-A", "zone", "")
    await console.expect_flash("Created location ZONE-A")
    await create_location("BIN-1", "bin", "ZONE-A")
    await console.expect_flash("Created location BIN-1")
    zone = page.locator("ul.tree > li").filter(has_text="ZONE-A")
    await expect(zone.locator("ul > li .loc")).to_contain_text("BIN-1 · bin · pickable · active")
    await expect(
        page.locator("ul.tree > li").filter(has_text="STAGE").locator(".loc").first
    ).to_contain_text("staging · not pickable")

    # A second BIN-1: the API's refusal next to the form, the input put back.
    async with page.expect_response(text("/locations$")) as answer:
        await create_location("BIN-1", "bin", "")
    assert (await answer.value).status == 409
    await console.expect_problem("BIN-1")
    await expect(page.get_by_label("Location code")).to_have_value("BIN-1")

    await page.get_by_text("Edit BIN-1").click()
    await page.locator("#loc-BIN-1-active").select_option("false")
    await page.get_by_role("button", name="Save BIN-1").click()
    await console.expect_flash("Saved location BIN-1")
    await expect(zone.locator("ul > li .loc")).to_contain_text("inactive")
    await console.check("warehouse")

    admin = tenant.auth(Role.ADMIN)
    found = (await api.get(f"/v1/warehouses/{code}/locations", headers=admin)).json()["items"]
    assert {(x["code"], x["parent_code"], x["active"]) for x in found} == {
        ("STAGE", None, True),
        ("ZONE-A", None, True),
        ("BIN-1", "ZONE-A", False),
    }
    await console.open("/warehouses")
    row = page.get_by_role("row").filter(has_text=code)
    await expect(row).to_contain_text("Hamburg")
    await expect(row).to_contain_text("7")
    await console.check("warehouses")


async def test_deactivating_a_warehouse_with_open_work_is_refused_on_the_page(
    console: Console, api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await build_catalogue(api, tenant)
    number, soon = unique("PO"), (datetime.now(UTC) + timedelta(days=3)).isoformat()
    line = {"sku": "WIDGET", "quantity": 4, "expected_at": soon}
    po = {"po_number": number, "supplier": "ACME", "warehouse": "WH1", "lines": [line]}
    await post(api, tenant, "/v1/purchase-orders", po)
    await read_until(api, tenant, f"/v1/purchase-orders/{number}", lambda b: b.get("created_at"))

    page = console.page
    await console.sign_in(tenant.keys[Role.ADMIN], "/warehouses/WH1")
    await page.locator("#f-active").select_option("false")
    async with page.expect_response(text("/warehouses/WH1$")) as answer:
        await page.get_by_role("button", name="Save warehouse").click()
    assert (await answer.value).status == 409
    await console.expect_problem("Conflict \\(409\\).*cannot be deactivated.*open purchase orders")
    await expect(page.get_by_text("Nothing was changed")).to_be_visible()
    warehouse = await api.get("/v1/warehouses/WH1", headers=tenant.auth(Role.VIEWER))
    assert warehouse.json()["active"] is True


async def test_a_wms_user_sees_no_admin_forms_and_a_forged_one_gets_the_apis_403(
    console: Console, api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await build_catalogue(api, tenant)
    page = console.page
    await console.sign_in(tenant.keys[Role.WMS], "/warehouses")
    await expect(page.get_by_role("row").filter(has_text="WH2")).to_be_visible()
    await expect(page.get_by_role("button", name="Create warehouse")).to_have_count(0)
    await console.open("/warehouses/WH1")
    await expect(page.locator("ul.tree")).to_contain_text("A1 · bin · pickable · active")
    for button in ("Save warehouse", "Create location", "Save A1"):
        await expect(page.get_by_role("button", name=button)).to_have_count(0)

    csrf = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    forged = await page.request.post(
        f"{console.url}/warehouses/WH1", form={"csrf_token": csrf or "", "active": "false"}
    )
    assert forged.status == 403
    assert "Nothing was changed" in await forged.text()
    warehouse = await api.get("/v1/warehouses/WH1", headers=tenant.auth(Role.VIEWER))
    assert warehouse.json()["active"] is True
