"""The inventory pages: find a SKU in the health table, adjust, move and transfer it
from its page (and see the refusals), download the table as CSV, and what a viewer
sees (no action forms, and a forged action refused by the API)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import expect

from domain.roles import Role
from tests.browser.console import Console, text
from tests.conftest import TenantKeys
from tests.e2e.inventory_setup import build_catalogue, receive


async def stocked(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    """WIDGET at WH1 (10 in A1) and WH2 (3), FABRIC at WH1."""
    await build_catalogue(api, tenant)
    for sku, quantity, warehouse in (
        ("WIDGET", 10, "WH1"),
        ("WIDGET", 3, "WH2"),
        ("FABRIC", 2.5, "WH1"),
    ):
        response = await receive(api, tenant, sku, quantity, warehouse=warehouse)
        assert response.status_code == 201, response.text


async def read(api: httpx.AsyncClient, tenant: TenantKeys, path: str, **params: Any) -> Any:
    response = await api.get(path, params=params, headers=tenant.auth(Role.VIEWER))
    assert response.status_code == 200, response.text
    return response.json()


async def places(api: httpx.AsyncClient, tenant: TenantKeys) -> dict[str, Any]:
    """WIDGET's on hand at WH1 by location."""
    balances = await read(api, tenant, "/v1/inventory/balances", sku="WIDGET", warehouse="WH1")
    return {p["location"]: p["on_hand"] for p in balances["items"][0]["locations"]}


async def submit(console: Console, form: str, fields: dict[str, str]) -> int:
    """Fill in the form of a section of the page by its labels and send it: the
    console's status code (303: done; else the API's refusal)."""
    region = console.page.get_by_role("region", name=form)
    for label, value in fields.items():
        await region.get_by_label(label).fill(value)
    async with console.page.expect_response(lambda r: r.request.method == "POST") as answer:
        await region.locator("button[type=submit]").click()
    return (await answer.value).status


async def test_a_warehouse_operator_finds_a_sku_then_adjusts_moves_and_transfers_it(
    console: Console, api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await stocked(api, tenant)
    page = console.page
    await console.sign_in(tenant.keys[Role.WMS], "/inventory")
    await page.get_by_label("Search SKU or name").fill("widg")
    await page.get_by_role("button", name="Show").click()
    rows = page.get_by_role("region", name="Inventory health").locator("tbody tr")
    await expect(rows).to_have_count(2)  # WIDGET at WH1 and WH2, not FABRIC
    assert "q=widg" in page.url
    await expect(page.get_by_role("link", name="Adjust WIDGET at WH1")).to_be_visible()
    await console.check("inventory")

    await rows.first.get_by_role("link", name="WIDGET", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Widget")
    await expect(page.get_by_role("img", name=text("On hand of WIDGET at WH1"))).to_be_visible()
    await console.check("inventory-sku")

    adjusted = await submit(
        console, "Adjust stock", {"Location": "A1", "Change": "5", "Reason": "found in the cage"}
    )
    assert adjusted == 303
    await console.expect_flash("Adjusted WIDGET at WH1 by 5")
    ledger = page.get_by_role("region", name="Movement ledger, newest first")
    await expect(ledger.locator("tbody tr").first).to_contain_text("found in the cage")
    assert await places(api, tenant) == {"A1": 15}

    # a reason of blanks passes the browser's `required` but is no reason: the API refuses
    before = await read(api, tenant, "/v1/inventory/movements", sku="WIDGET")
    refused = await submit(
        console, "Adjust stock", {"Location": "A1", "Change": "-2", "Reason": "   "}
    )
    assert refused == 422
    await console.expect_problem("reason")
    adjust = page.get_by_role("region", name="Adjust stock")
    await expect(adjust.get_by_label("Change")).to_have_value("-2")  # the input is kept
    assert await read(api, tenant, "/v1/inventory/movements", sku="WIDGET") == before

    move = {"From location": "A1", "To location": "A2", "Quantity": "4"}
    assert await submit(console, "Move stock", move) == 303
    await console.expect_flash("Moved 4 of WIDGET from A1 to A2")
    assert await places(api, tenant) == {"A1": 11, "A2": 4}

    # more than is free at the source: the API's 409, shown, nothing moved
    move = {"From location": "A2", "To location": "A1", "Quantity": "40"}
    assert await submit(console, "Move stock", move) == 409
    await console.expect_problem("WIDGET")
    assert await places(api, tenant) == {"A1": 11, "A2": 4}

    transfer = page.get_by_role("region", name="Start a transfer")
    number = await transfer.get_by_label("Transfer number").input_value()
    assert number.startswith("TR-")  # suggested; the operator may type another
    await expect(transfer.get_by_label("From warehouse")).to_have_value("WH1")
    await expect(transfer.get_by_label("To warehouse")).to_have_value("WH2")
    assert await submit(console, "Start a transfer", {"Quantity": "6"}) == 303
    await console.expect_flash(f"Transfer {number} requested")
    created = await read(api, tenant, f"/v1/transfers/{number}")
    assert (created["from_warehouse"], created["to_warehouse"]) == ("WH1", "WH2")


async def test_the_csv_download_is_the_apis_csv_for_the_same_filters(
    console: Console, api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await stocked(api, tenant)
    page = console.page
    await console.sign_in(tenant.keys[Role.VIEWER], "/inventory?warehouse=WH1&sort=-available")
    async with page.expect_download() as downloading:
        await page.get_by_role("link", name="Download CSV").click()
    download = await downloading.value
    assert download.suggested_filename.startswith("inventory-health-")
    assert download.suggested_filename.endswith(".csv")
    got = Path(await download.path()).read_text(encoding="utf-8")
    expected = await api.get(
        "/v1/inventory/health",
        params={"warehouse": "WH1", "sort": "-available", "format": "csv"},
        headers=tenant.auth(Role.VIEWER),
    )
    assert got == expected.text
    assert [line.split(",")[0] for line in got.splitlines()[1:]] == ["WIDGET", "FABRIC"]
    answer = await page.request.get(f"{console.url}/inventory.csv?warehouse=WH1")
    assert answer.headers["content-type"].startswith("text/csv")


async def test_a_viewer_sees_the_inventory_pages_without_any_action(
    console: Console, api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await stocked(api, tenant)
    page = console.page
    await console.sign_in(tenant.keys[Role.VIEWER], "/inventory")
    await expect(page.get_by_role("link", name="WIDGET", exact=True).first).to_be_visible()
    await expect(page.get_by_role("columnheader", name="Actions")).to_have_count(0)
    await page.get_by_role("link", name="FABRIC", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Fabric")
    await expect(page.get_by_role("cell", name="2.5").first).to_be_visible()  # yards
    for heading in ("Adjust stock", "Move stock", "Start a transfer"):
        await expect(page.get_by_role("heading", name=heading)).to_have_count(0)
    await expect(page.locator("form[method=post]")).to_have_count(1)  # sign out only

    # a forged adjustment with the viewer's own session: the API's 403, nothing changed
    token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    forged = await page.request.post(
        f"{console.url}/inventory/FABRIC/adjust",
        form={
            "csrf_token": token or "",
            "adjust_warehouse": "WH1",
            "adjust_location": "A1",
            "delta": "1",
            "reason": "forged",
            "idempotency_key": "console-forged",
        },
    )
    assert forged.status == 403
    assert "Nothing was changed" in await forged.text()
    movements = await read(api, tenant, "/v1/inventory/movements", sku="FABRIC")
    assert [m["type"] for m in movements["items"]] == ["receipt"]
