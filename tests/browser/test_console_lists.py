"""The console's alerts, backorders and movements pages: find an alert the inventory
scan raised and resolve it with a note (and what is refused), see a backordered line
with the PO that promises it, and narrow and page the movement ledger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.async_api import expect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from contracts.orders import order_workflow_id
from db.alerts import NewAlert, raise_alert
from domain.roles import Role
from tests.browser.console import Console, text
from tests.conftest import TenantKeys, read_until, unique
from tests.e2e.inventory_setup import build_catalogue, key, receive
from tests.e2e.replenishment_setup import tenant_id


async def _alerts(api: httpx.AsyncClient, tenant: TenantKeys, status: str) -> list[Any]:
    answer = await api.get(f"/v1/alerts?status={status}", headers=tenant.auth(Role.VIEWER))
    assert answer.status_code == 200, answer.text
    items: list[Any] = answer.json()["items"]
    return items


async def test_a_warehouse_operator_finds_the_scans_expiry_alert_and_resolves_it_with_a_note(
    console: Console,
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    dev_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await build_catalogue(api, tenant)
    soon = datetime.now(UTC).date() + timedelta(days=3)
    received = await receive(api, tenant, "MILK", 5, lot="SOON", expires_at=str(soon))
    assert received.status_code == 201, received.text
    started = await api.post("/v1/inventory/scan", headers=tenant.auth(Role.ADMIN))
    assert started.status_code == 202, started.text
    await dev_env.client.get_workflow_handle(started.json()["workflow_id"]).result()
    [expiring] = await _alerts(api, tenant, "open")
    number = unique("SO")
    workflow = order_workflow_id(await tenant_id(sessions, tenant), number)
    await raise_alert(
        sessions,
        NewAlert(
            tenant_id=await tenant_id(sessions, tenant),
            key=f"activity_failing:{workflow}",
            kind="activity_failing",
            reference_type="workflow",
            reference_id=workflow,
            message=f"{workflow}: reserve_stock failed 5 times, still retrying",
        ),
    )

    await console.sign_in(tenant.keys[Role.WMS], "/alerts")
    page = console.page
    await expect(page.get_by_role("heading", name="Open alerts")).to_be_visible()
    failing = page.locator(".alert").filter(has_text="activity failing")
    await expect(failing.get_by_role("link", name=number)).to_have_attribute(
        "href", f"/console/orders/{number}"
    )
    await page.get_by_label("Kind").fill("expiring")
    await page.get_by_role("button", name="Show").click()
    card = page.locator(".alert").filter(has_text=f"alert {expiring['id']}")
    await expect(card).to_contain_text("SOON")
    await expect(card).to_contain_text("WH1")
    await expect(card.get_by_role("link", name="MILK")).to_have_attribute(
        "href", "/console/inventory/MILK"
    )
    await expect(page.get_by_text("activity failing")).to_have_count(0)
    await console.check("alerts")

    # A note the API refuses (longer than 500 characters): its 422, the note kept.
    note = card.get_by_label(f"Note for alert {expiring['id']}")
    async with page.expect_response(text("/resolve")) as answer:
        await note.fill("x" * 501)
        await card.get_by_role("button", name="Resolve").click()
    assert (await answer.value).status == 422
    await console.expect_problem("422")
    await expect(note).to_have_value("x" * 501)
    assert [a["id"] for a in await _alerts(api, tenant, "open")].count(expiring["id"]) == 1

    await note.fill("moved to the front of the shelf")
    await card.get_by_role("button", name="Resolve").click()
    await console.expect_flash(f"Resolved alert {expiring['id']}")
    assert page.url.endswith("/console/alerts?kind=expiring&status=open")
    await expect(page.get_by_text("No open alerts of this kind")).to_be_visible()
    [done] = await _alerts(api, tenant, "resolved")
    assert (done["id"], done["resolution"]) == (expiring["id"], "moved to the front of the shelf")

    await page.get_by_label("Status").select_option("resolved")
    await page.get_by_role("button", name="Show").click()
    await expect(page.locator(".alert")).to_contain_text("moved to the front of the shelf")
    await expect(page.get_by_role("button", name="Resolve")).to_have_count(0)

    # Resolving it again (an old page's form): the API's 409, nothing changed.
    csrf = await page.locator("input[name=csrf_token]").first.get_attribute("value")
    again = await page.request.post(
        f"{console.url}/alerts/{expiring['id']}/resolve",
        form={"csrf_token": csrf or "", "resolution": "again"},
    )
    assert again.status == 409
    assert "was resolved" in await again.text()
    [still] = await _alerts(api, tenant, "resolved")
    assert still["resolution"] == "moved to the front of the shelf"


async def test_a_viewer_sees_alerts_without_a_resolve_form_and_a_forged_resolve_is_refused(
    console: Console,
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    alert_id = await raise_alert(
        sessions,
        NewAlert(
            tenant_id=await tenant_id(sessions, tenant),
            key="setup:staging:WH9",
            kind="setup",
            reference_type="warehouse",
            reference_id="WH9",
            message="warehouse WH9 has no active staging location",
        ),
    )
    await console.sign_in(tenant.keys[Role.VIEWER], "/alerts?kind=setup")
    await expect(console.page.locator(".alert")).to_contain_text("WH9")
    await expect(console.page.get_by_role("button", name="Resolve")).to_have_count(0)

    csrf = await console.page.locator("input[name=csrf_token]").first.get_attribute("value")
    forged = await console.page.request.post(
        f"{console.url}/alerts/{alert_id}/resolve?kind=setup",
        form={"csrf_token": csrf or "", "resolution": "not mine to resolve"},
    )
    assert forged.status == 403
    body = await forged.text()
    assert "403" in body and "Nothing was changed" in body
    assert [a["id"] for a in await _alerts(api, tenant, "open")] == [alert_id]


async def test_the_backorders_page_shows_a_waiting_line_with_the_po_that_promises_it(
    console: Console, api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await build_catalogue(api, tenant)
    wms = {**tenant.auth(Role.WMS)}
    item = {"sku": "BACK", "name": "backorderable", "backorder_policy": "allow"}
    assert (await api.post("/v1/items", json=item, headers=wms)).status_code == 201
    po, due = unique("PO"), (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    purchase = {
        "po_number": po,
        "supplier": "ACME",
        "warehouse": "WH1",
        "lines": [{"sku": "BACK", "quantity": 5, "expected_at": due.isoformat()}],
    }
    created = await api.post("/v1/purchase-orders", json=purchase, headers={**wms, **key()})
    assert created.status_code == 201, created.text
    await read_until(api, tenant, f"/v1/purchase-orders/{po}", lambda b: bool(b.get("created_at")))
    number = unique("SO")
    order = {
        "order_number": number,
        "customer_id": "C-77",
        "currency": "EUR",
        "lines": [{"line_id": "1", "sku": "BACK", "quantity": 4}],
    }
    placed = await api.post("/v1/orders", json=order, headers=tenant.auth(Role.OMS))
    assert placed.status_code == 201, placed.text
    await read_until(api, tenant, "/v1/backorders", lambda b: len(b["items"]) == 1)

    await console.sign_in(tenant.keys[Role.VIEWER], "/backorders")
    row = console.page.get_by_role("row").filter(has_text=number)
    await expect(row.get_by_role("link", name=number)).to_have_attribute(
        "href", f"/console/orders/{number}"
    )
    await expect(row.get_by_role("link", name="BACK")).to_have_attribute(
        "href", "/console/inventory/BACK"
    )
    for shown in ("C-77", "4 ea", due.strftime("%Y-%m-%d %H:%M UTC"), f"purchase order {po}"):
        await expect(row).to_contain_text(shown)
    await console.check("backorders")

    for customer, rows in (("C-77", 1), ("C-other", 0)):
        await console.page.get_by_label("Customer").fill(customer)
        await console.page.get_by_role("button", name="Show").click()
        await expect(console.page.get_by_label("Customer")).to_have_value(customer)
        await expect(row).to_have_count(rows)
    await expect(console.page.get_by_text("No backordered lines match")).to_be_visible()
    await expect(console.page.get_by_label("SKU")).to_have_value("")


async def test_movement_filters_narrow_the_ledger_and_its_pages_keep_them(
    console: Console, api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await build_catalogue(api, tenant)
    for sku, quantity in (("WIDGET", 5), ("WIDGET", 3), ("FABRIC", 2)):
        assert (await receive(api, tenant, sku, quantity)).status_code == 201
    move = {"warehouse": "WH1", "from_location": "A1", "to_location": "A2", "sku": "WIDGET"}
    moved = await api.post(
        "/v1/inventory/moves",
        json={**move, "quantity": 4},
        headers={**tenant.auth(Role.WMS), **key()},
    )
    assert moved.status_code == 201, moved.text

    await console.sign_in(tenant.keys[Role.VIEWER], "/movements")
    page = console.page
    rows = page.get_by_role("row")
    await expect(rows).to_have_count(5)  # header + 4 movements, newest (the move) first
    await expect(rows.nth(1)).to_contain_text("A1 → A2")
    await console.check("movements")

    await page.get_by_label("SKU").fill("WIDGET")
    await page.get_by_label("Type").select_option("receipt")
    await page.get_by_role("button", name="Show").click()
    await expect(rows).to_have_count(3)
    await expect(rows.nth(1)).to_contain_text("+3")
    await expect(rows.nth(2)).to_contain_text("+5")
    await expect(page.get_by_text("FABRIC")).to_have_count(0)

    await console.open("/movements?sku=WIDGET&type=receipt&limit=1")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(1)).to_contain_text("+3")
    await page.get_by_role("link", name="Next page").click()
    await expect(rows).to_have_count(2)
    await expect(rows.nth(1)).to_contain_text("+5")
    await expect(page.get_by_label("Type")).to_have_value("receipt")
    await page.get_by_role("link", name="First page").click()
    await expect(rows.nth(1)).to_contain_text("+3")
