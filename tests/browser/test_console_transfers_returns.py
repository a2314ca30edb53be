"""The transfers and returns pages: a warehouse ships and receives a transfer, an
operator approves, receives and closes a return, each through the page's forms; a
refused step shows the API's problem and changes nothing; a viewer gets no forms."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.async_api import expect

from domain.roles import Role
from tests.browser.console import Console, text
from tests.conftest import TenantKeys, unique
from tests.e2e.inventory_setup import build_catalogue, key, receive
from tests.e2e.test_orders_api import _fulfil_all
from tests.e2e.test_orders_api import _until as order_until
from tests.e2e.test_transfers_api import _until

ACTIONS = re.compile(r"ship|cancel|receive|record|approve|reject|close", re.IGNORECASE)


async def _transfer(api: httpx.AsyncClient, tenant: TenantKeys, quantity: int) -> str:
    number = unique("TR")
    body = {
        "transfer_number": number,
        "from_warehouse": "WH1",
        "to_warehouse": "WH2",
        "lines": [{"sku": "WIDGET", "quantity": quantity}],
    }
    created = await api.post(
        "/v1/transfers", json=body, headers={**tenant.auth(Role.ADMIN), **key()}
    )
    assert created.status_code == 201, created.text
    await _until(api, tenant, f"/v1/transfers/{number}", "reserved")
    return number


async def _read(api: httpx.AsyncClient, tenant: TenantKeys, path: str) -> dict[str, Any]:
    answer: dict[str, Any] = (await api.get(path, headers=tenant.auth(Role.VIEWER))).json()
    return answer


async def _a_viewer_has_no_forms(
    console: Console, tenant: TenantKeys, path: str, heading: str
) -> None:
    """Signed in again as a viewer: the page reads, with no form to act."""
    await console.page.get_by_role("button", name="Sign out").click()
    await console.sign_in(tenant.keys[Role.VIEWER], path)
    await expect(console.page.get_by_role("heading", name=heading)).to_be_visible()
    await expect(console.page.get_by_role("button", name=ACTIONS)).to_have_count(0)


async def test_a_warehouse_ships_and_receives_a_transfer_through_its_page(
    console: Console, api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await build_catalogue(api, tenant)
    assert (await receive(api, tenant, "WIDGET", 10)).status_code == 201
    number, waiting = await _transfer(api, tenant, 4), await _transfer(api, tenant, 1)
    path = f"/v1/transfers/{number}"
    page = console.page

    await console.sign_in(tenant.keys[Role.WMS], f"/transfers/{number}")
    await expect(page.get_by_role("heading", name=f"Transfer {number}")).to_be_visible()
    await page.get_by_label("Carrier").fill("DHL")
    await page.get_by_label("Tracking number").fill("T-77")
    await page.get_by_role("button", name="Ship transfer").click()
    await console.expect_flash(f"Shipped transfer {number}")
    assert (await _read(api, tenant, path))["status"] == "in_transit"
    await expect(page.locator("dl.facts")).to_contain_text("T-77")

    # the overview's link: shipped, not yet received
    await console.open("/transfers?status=in_transit")
    await expect(page.get_by_role("link", name=number)).to_be_visible()
    await expect(page.get_by_role("link", name=waiting)).to_have_count(0)
    await console.check("transfers")

    # more than shipped: the API's 409 on the page, nothing received
    await page.get_by_role("link", name=number).click()
    await page.get_by_label("Location at WH2").fill("A1")
    await page.get_by_label("Received WIDGET").fill("5")
    async with page.expect_response(text(f"/transfers/{number}/receive$")) as answer:
        await page.get_by_role("button", name="Record receipt").click()
    assert (await answer.value).status == 409
    await console.expect_problem("Nothing was changed")
    await expect(page.get_by_label("Received WIDGET")).to_have_value("5")
    refused = await _read(api, tenant, path)
    assert (refused["status"], refused["receipts"]) == ("in_transit", [])
    await console.check("transfer")

    await page.get_by_label("Received WIDGET").fill("3")
    await page.get_by_label("Reason for a difference, WIDGET").fill("one crushed")
    await page.get_by_role("button", name="Record receipt").click()
    await console.expect_flash(f"Recorded a receipt for transfer {number}")
    done = await _read(api, tenant, path)
    assert done["status"] == "completed"
    assert [(s["received"], s["written_off"]) for s in done["stock"]] == [(3, 1)]
    await expect(page.get_by_role("region", name="Receipts")).to_contain_text("one crushed")

    # a viewer reads the reserved transfer but has no forms
    await _a_viewer_has_no_forms(console, tenant, f"/transfers/{waiting}", f"Transfer {waiting}")
    token = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    forged = await page.request.post(
        f"{console.url}/transfers/{waiting}/cancel", form={"csrf_token": token or ""}
    )
    assert forged.status == 403  # the API's refusal, shown on the page
    assert "may not do this (needs admin, wms)" in await forged.text()
    assert (await _read(api, tenant, f"/v1/transfers/{waiting}"))["status"] == "reserved"


async def test_an_operator_approves_receives_and_closes_a_return_through_its_page(
    console: Console, api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await build_catalogue(api, tenant)
    assert (await receive(api, tenant, "WIDGET", 10)).status_code == 201
    order = unique("SO")
    body = {
        "order_number": order,
        "customer_id": "C-R",
        "currency": "EUR",
        "lines": [{"line_id": "1", "sku": "WIDGET", "quantity": 3, "unit_price": 5}],
    }
    assert (await api.post("/v1/orders", json=body, headers=tenant.auth(Role.OMS))).is_success
    await order_until(api, tenant, order, "allocated")
    await _fulfil_all(api, tenant, order)
    await order_until(api, tenant, order, "shipped")
    rma = unique("RMA")
    request = {"rma_number": rma, "reason": "too small", "lines": [{"line_id": "1", "quantity": 2}]}
    created = await api.post(
        f"/v1/orders/{order}/returns", json=request, headers=tenant.auth(Role.OMS)
    )
    assert created.status_code == 201, created.text
    path, page = f"/v1/returns/{rma}", console.page

    await console.sign_in(tenant.keys[Role.ADMIN], "/returns?status=requested")
    await expect(page.get_by_role("link", name=order)).to_have_attribute(
        "href", f"/console/orders/{order}"
    )
    await console.check("returns")
    await page.get_by_role("link", name=rma).click()
    await page.get_by_role("button", name="Approve return").click()
    await console.expect_flash(f"Approved return {rma}")
    assert (await _read(api, tenant, path))["status"] == "approved"

    # an unknown location: the API's 404 on the page, nothing received
    await page.get_by_label("Warehouse").fill("WH1")
    await page.get_by_label("Location").fill("NOPE")
    await page.get_by_label("Received, line 1").fill("2")
    await page.get_by_label("Accepted, line 1").fill("1")
    async with page.expect_response(text(f"/returns/{rma}/receive$")) as answer:
        await page.get_by_role("button", name="Record receipt").click()
    assert (await answer.value).status == 404
    await console.expect_problem("NOPE")
    assert (await _read(api, tenant, path))["status"] == "approved"
    await console.check("return")

    await page.get_by_label("Location").fill("A2")
    await page.get_by_role("button", name="Record receipt").click()
    await console.expect_flash(f"Recorded the receipt of return {rma}")
    received = await _read(api, tenant, path)
    assert received["status"] == "received"
    assert [(x["received"], x["accepted"], x["disposition"]) for x in received["lines"]] == [
        (2, 1, "restock")
    ]
    await page.get_by_role("button", name="Close return").click()
    await console.expect_flash(f"Closed return {rma}")
    assert (await _read(api, tenant, path))["status"] == "closed"

    # a viewer reads a received return but has no forms
    other = unique("RMA")
    again = {**request, "rma_number": other, "lines": [{"line_id": "1", "quantity": 1}]}
    oms = tenant.auth(Role.OMS)
    assert (await api.post(f"/v1/orders/{order}/returns", json=again, headers=oms)).is_success
    await _a_viewer_has_no_forms(console, tenant, f"/returns/{other}", f"Return {other}")
