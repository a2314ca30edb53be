"""The fulfillment queue: a warehouse worker takes a request from the queue through
accept, pick, pack and ship on its page; a bad pick is refused with the API's status;
a viewer sees the queue and no forms."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.async_api import expect
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.worker import Worker

from db.stock.reconcile import find_violations
from domain.roles import Role
from tests.browser.console import Console
from tests.browser.console import text as pattern
from tests.conftest import TenantKeys, read_until, unique
from tests.e2e.inventory_setup import build_catalogue, receive


@pytest.fixture
async def queued(api: httpx.AsyncClient, tenant: TenantKeys, dev_worker: Worker) -> dict[str, Any]:
    """An order for 2 widgets (10 on hand in WH1), its request waiting in the queue."""
    await build_catalogue(api, tenant)
    assert (await receive(api, tenant, "WIDGET", 10)).status_code == 201
    body = {
        "order_number": unique("SO"),
        "customer_id": "C-7",
        "currency": "EUR",
        "lines": [{"line_id": "1", "sku": "WIDGET", "quantity": 2, "unit_price": 9.5}],
        "shipping_method": "express",
        "requested_ship_at": "2031-03-01T09:00:00Z",
        "ship_to": {
            "name": "Ada Lovelace",
            "lines": ["Invalidenstr. 116"],
            "city": "Berlin",
            "postal_code": "10115",
            "country": "DE",
        },
    }
    created = await api.post("/v1/orders", json=body, headers=tenant.auth(Role.OMS))
    assert created.status_code == 201, created.text
    number = body["order_number"]
    page = await read_until(
        api, tenant, f"/v1/fulfillment-requests?order_number={number}", lambda b: b["items"]
    )
    [request] = page["items"]
    assert isinstance(request, dict)
    return request


async def _request(api: httpx.AsyncClient, tenant: TenantKeys, rid: str) -> Any:
    return (
        await api.get(f"/v1/fulfillment-requests/{rid}", headers=tenant.auth(Role.VIEWER))
    ).json()


async def test_a_warehouse_worker_takes_a_request_from_requested_to_shipped_on_its_page(
    console: Console,
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    queued: dict[str, Any],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    rid, number = queued["id"], queued["order_number"]
    page = console.page
    await console.sign_in(tenant.keys[Role.WMS], "/queue?warehouse=WH1")
    row = page.get_by_role("row").filter(has_text=rid)
    await expect(row).to_contain_text("requested")
    await expect(row.get_by_role("link", name=number, exact=True)).to_have_attribute(
        "href", f"/console/orders/{number}"
    )
    await expect(row).to_contain_text("express")
    await console.check("queue")

    await row.get_by_role("link", name=rid, exact=True).click()
    await expect(page.get_by_role("heading", name=f"Request {rid}")).to_be_visible()
    await expect(page.locator("address")).to_contain_text("Invalidenstr. 116")
    await console.check("queue-request-requested")
    await page.get_by_role("button", name="Accept request").click()
    await console.expect_flash(f"Accepted {rid}")
    await console.check("queue-request-accepted")

    # More than allocated: the API's 409, the input put back, nothing picked.
    quantity = page.locator("#f-pick-0-quantity")
    await expect(quantity).to_have_value("2")
    await expect(page.locator("#f-pick-0-location")).to_have_value("A1")
    await quantity.fill("3")
    async with page.expect_response(pattern(f"/queue/{rid}/pick$")) as answer:
        await page.get_by_role("button", name="Confirm pick").click()
    assert (await answer.value).status == 409
    await console.expect_problem("(409)")
    await console.expect_problem("3 ea picked, but 2 ea allocated at A1")
    await expect(quantity).to_have_value("3")
    after = await _request(api, tenant, rid)
    assert (after["status"], after["lines"][0]["picked"]) == ("accepted", 0)

    await quantity.fill("2")
    await page.get_by_role("button", name="Confirm pick").click()
    await console.expect_flash(f"Pick confirmed for {rid}")
    await console.check("queue-request-picked")

    await expect(page.get_by_label("Line 1 · WIDGET")).to_have_value("2")
    await page.get_by_label("Weight", exact=True).fill("1.5")
    await page.get_by_label("Length").fill("30")
    await page.get_by_label("Width").fill("20")
    await page.get_by_label("Height").fill("10")
    await page.get_by_label("Tracking number", exact=True).fill("JJD0001")
    await page.get_by_role("button", name="Record package").click()
    await console.expect_flash(f"Packed {rid}")

    await expect(page.get_by_label("Service level")).to_have_value("express")
    await page.get_by_label("Carrier").fill("DHL")
    await page.get_by_label("Tracking numbers").fill("00340434")
    await page.get_by_role("button", name="Confirm shipped").click()
    await console.expect_flash(f"Shipped {rid}")
    await expect(page.get_by_text("nothing is left to do")).to_be_visible()

    order = await read_until(
        api, tenant, f"/v1/orders/{number}", lambda b: b["status"] == "shipped"
    )
    [shipment] = order["shipments"]
    assert (shipment["carrier"], shipment["tracking_numbers"]) == ("DHL", ["JJD0001", "00340434"])
    [package] = shipment["packages"]
    assert package["weight"] == {"value": 1.5, "unit": "kg"}
    assert package["dimensions"] == {"length": 30, "width": 20, "height": 10, "unit": "cm"}
    stock = (
        await api.get("/v1/inventory/availability?sku=WIDGET", headers=tenant.auth(Role.VIEWER))
    ).json()
    assert stock["items"][0]["on_hand"] == 8
    async with sessions() as session, session.begin():
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        tenant_id = await session.scalar(
            text("SELECT id FROM tenants WHERE slug = :s"), {"s": tenant.slug}
        )
        assert await find_violations(session, int(tenant_id)) == []


async def test_a_viewer_sees_the_queue_and_the_request_without_action_forms(
    console: Console, api: httpx.AsyncClient, tenant: TenantKeys, queued: dict[str, Any]
) -> None:
    rid = queued["id"]
    page = console.page
    await console.sign_in(tenant.keys[Role.VIEWER], "/queue")
    await page.get_by_label("Warehouse").select_option("WH1")
    await page.get_by_label("Status").select_option("requested")
    await page.get_by_role("button", name="Show").click()
    await expect(page).to_have_url(pattern(r"/queue\?warehouse=WH1&status=requested"))
    await page.get_by_role("link", name=rid).click()
    await expect(page.get_by_role("heading", name=f"Request {rid}")).to_be_visible()
    await expect(page.get_by_text("Your role (viewer) may look at the queue")).to_be_visible()
    assert await page.get_by_role("button", name="Accept request").count() == 0
    await console.check("queue-request-viewer")

    # A forged accept: the API's 403 on the page, the request still waiting.
    csrf = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    forged = await page.request.post(
        f"{console.url}/queue/{rid}/accept", form={"csrf_token": csrf or ""}
    )
    assert forged.status == 403
    assert "Nothing was changed" in await forged.text()
    assert (await _request(api, tenant, rid))["status"] == "requested"
