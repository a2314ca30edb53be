"""The orders pages: find an order, hold it and release it; what a refused hold shows;
what a viewer sees (no actions) and what a forged form of theirs gets (the API's 403)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
from playwright.async_api import expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from console.app import temporal_ui_base
from domain.roles import Role
from settings import Settings
from tests.browser.console import Console, text
from tests.conftest import TenantKeys, unique
from tests.e2e.test_orders_api import ADDRESS, _order, _until, shop
from tests.integration.test_outbox import _publish_all as publish_events

__all__ = ["shop"]  # the fixture: a catalogue with stock received


async def _allocated_order(api: httpx.AsyncClient, shop: TenantKeys) -> dict[str, Any]:
    body = _order(
        [{"line_id": "1", "sku": "WIDGET", "quantity": 2, "unit_price": 9.5}],
        customer_id=unique("C"),
        ship_to=ADDRESS,
    )
    created = await api.post("/v1/orders", json=body, headers=shop.auth(Role.OMS))
    assert created.status_code == 201, created.text
    return await _until(api, shop, body["order_number"], "allocated")


async def _holds(api: httpx.AsyncClient, shop: TenantKeys, number: str) -> list[dict[str, Any]]:
    order = await api.get(f"/v1/orders/{number}", headers=shop.auth(Role.VIEWER))
    holds: list[dict[str, Any]] = order.json()["holds"]
    return holds


async def test_an_operator_finds_an_order_holds_it_releases_it_and_cancels_it(
    console: Console,
    api: httpx.AsyncClient,
    shop: TenantKeys,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    order = await _allocated_order(api, shop)
    await publish_events(sessions)  # the relay's step: the order's events in the feed
    number, page = order["order_number"], console.page
    await console.sign_in(shop.keys[Role.OMS], "/orders")
    await page.get_by_label("Customer").fill(order["customer_id"])
    await page.get_by_label("Status").select_option("allocated")
    await page.get_by_role("button", name="Filter").click()
    rows = page.get_by_role("region", name="Orders").locator("tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text(text(r"allocated\s+" + order["customer_id"]))
    await expect(rows).to_contain_text(text(r"1 line:\s+WIDGET . 2"))
    await console.check("orders")
    listed = await api.get(
        "/v1/orders", params={"customer_id": order["customer_id"]}, headers=shop.auth(Role.OMS)
    )
    day = datetime.fromisoformat(listed.json()["items"][0]["created_at"]).astimezone(UTC).date()
    customer = f"/orders?customer_id={order['customer_id']}"
    await console.open(f"{customer}&created_from={day}&created_to={day}&status=")
    await expect(rows).to_have_count(1)
    await console.open(f"{customer}&created_from={day + timedelta(days=1)}")
    await expect(page.get_by_text("No orders match these filters")).to_be_visible()
    await page.go_back()

    await page.get_by_role("link", name=number).click()
    await expect(page.get_by_role("heading", name=f"Order {number}")).to_be_visible()
    run = page.get_by_role("link", name="Open its run in the Temporal UI")
    namespace, workflow = (
        quote(settings.temporal_namespace, safe=""),
        quote(order["workflow_id"], safe=""),
    )
    expected = f"{temporal_ui_base(settings)}/namespaces/{namespace}/workflows/{workflow}"
    await expect(run).to_have_attribute("href", expected)
    await expect(page.get_by_role("region", name="Order lines")).to_contain_text("WIDGET")
    await expect(page.locator(".timeline")).to_contain_text("created")
    await console.check("order")

    await page.get_by_label("Hold code").fill("Fraud!")
    hold = page.get_by_role("form", name="Place a hold")
    await hold.get_by_label("Reason").fill("card flagged")
    async with page.expect_response(text(f"/orders/{number}/holds$")) as answer:
        await page.get_by_role("button", name="Place hold").click()
    assert (await answer.value).status == 422
    await console.expect_problem("code")
    await expect(page.get_by_label("Hold code")).to_have_value("Fraud!")  # put back
    assert await _holds(api, shop, number) == []

    await page.get_by_label("Hold code").fill("fraud")
    await page.get_by_role("button", name="Place hold").click()
    await console.expect_flash("Hold fraud placed")
    await _until(api, shop, number, "on_hold")
    await page.reload()
    await expect(page.locator(".facts")).to_contain_text("on hold")
    await page.get_by_role("button", name="Release hold fraud").click()
    await console.expect_flash("Hold released")
    await _until(api, shop, number, "allocated")
    await publish_events(sessions)
    await page.reload()
    await expect(page.locator(".timeline")).to_contain_text(text(r"on hold\s+→\s+allocated"))
    await expect(page.locator(".holds")).to_contain_text(
        text(r"fraud: card flagged\s+\(stops fulfillment; released\)")
    )
    await expect(page.get_by_role("button", name="Release hold fraud")).to_have_count(0)
    assert [h["active"] for h in await _holds(api, shop, number)] == [False]

    await page.get_by_label("Reason for canceling").fill("customer asked")
    await page.get_by_role("button", name="Cancel order").click()
    await console.expect_flash("canceled")
    assert (await _until(api, shop, number, "canceled"))["cancel_reason"] == "customer asked"


async def test_a_viewer_sees_an_order_without_actions_and_a_forged_hold_gets_the_apis_403(
    console: Console, api: httpx.AsyncClient, shop: TenantKeys
) -> None:
    number = (await _allocated_order(api, shop))["order_number"]
    await console.sign_in(shop.keys[Role.VIEWER], f"/orders/{number}")
    page = console.page
    await expect(page.get_by_role("heading", name=f"Order {number}")).to_be_visible()
    await expect(page.locator("main form")).to_have_count(0)
    await expect(page.get_by_role("button")).to_have_count(1)  # Sign out
    await console.check("order-viewer")

    csrf = await page.locator(".who input[name=csrf_token]").get_attribute("value")
    assert csrf
    forged = await page.request.post(
        f"{console.url}/orders/{number}/holds",
        form={"csrf_token": csrf, "code": "fraud", "reason": "forged"},
    )
    assert forged.status == 403
    body = await forged.text()
    assert "role &#39;viewer&#39; may not do this" in body and "Nothing was changed" in body
    assert await _holds(api, shop, number) == []
