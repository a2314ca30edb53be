"""Purchase orders through the API, on the dev server with the project's worker:
incoming at the warehouse, partial receipts that wake a backorder, the PO closing
itself, close short and cancel releasing incoming, and every wrong request
refused with nothing recorded."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.worker import Worker

from contracts.purchasing import purchase_order_workflow_id
from db.stock.reconcile import find_violations
from domain.roles import Role
from tests.conftest import TenantKeys, unique
from tests.e2e.inventory_setup import build_catalogue, key, snapshot
from tests.integration.event_helpers import feed

PROBLEM = "application/problem+json"
SOON = (datetime.now(UTC) + timedelta(days=7)).isoformat()


@pytest.fixture
async def depot(api: httpx.AsyncClient, tenant: TenantKeys, dev_worker: Worker) -> TenantKeys:
    await build_catalogue(api, tenant)
    item = {"sku": "BACK", "name": "backorderable", "backorder_policy": "allow"}
    created = await api.post("/v1/items", json=item, headers=tenant.auth(Role.WMS))
    assert created.status_code == 201
    return tenant


async def _tenant_id(sessions: async_sessionmaker[AsyncSession], tenant: TenantKeys) -> int:
    async with sessions() as session:
        found = await session.scalar(
            text("SELECT id FROM tenants WHERE slug = :s"), {"s": tenant.slug}
        )
    assert found is not None
    return int(found)


async def _reconciled(sessions: async_sessionmaker[AsyncSession], tenant_id: int) -> None:
    async with sessions() as session, session.begin():
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        assert await find_violations(session, tenant_id) == []


async def _post(
    api: httpx.AsyncClient, tenant: TenantKeys, path: str, body: Any, role: Role = Role.WMS
) -> httpx.Response:
    return await api.post(path, json=body, headers={**tenant.auth(role), **key()})


async def _get(api: httpx.AsyncClient, tenant: TenantKeys, path: str) -> dict[str, Any]:
    response = await api.get(path, headers=tenant.auth(Role.VIEWER))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _until(
    api: httpx.AsyncClient, tenant: TenantKeys, path: str, test: Any, seconds: float = 30
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(int(seconds / 0.1)):
        body = (await api.get(path, headers=tenant.auth(Role.VIEWER))).json()
        if test(body):
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path} never got there: {body}")


async def _incoming(api: httpx.AsyncClient, tenant: TenantKeys, sku: str) -> dict[str, Any]:
    body = await _get(api, tenant, f"/v1/inventory/availability?sku={sku}")
    return {row["warehouse"]: (row["on_hand"], row["incoming"]) for row in body["items"]}


def _po(number: str, *lines: tuple[str, float], warehouse: str = "WH1") -> dict[str, Any]:
    return {
        "po_number": number,
        "supplier": "ACME",
        "warehouse": warehouse,
        "lines": [{"sku": sku, "quantity": q, "expected_at": SOON} for sku, q in lines],
    }


async def _created(api: httpx.AsyncClient, tenant: TenantKeys, *lines: tuple[str, float]) -> str:
    number = unique("PO")
    created = await _post(api, tenant, "/v1/purchase-orders", _po(number, *lines))
    assert created.status_code == 201, created.text
    await _until(api, tenant, f"/v1/purchase-orders/{number}", lambda b: b.get("created_at"))
    return number


async def test_a_po_brings_incoming_and_its_partial_receipts_wake_a_backorder(
    api: httpx.AsyncClient,
    depot: TenantKeys,
    other_tenant: TenantKeys,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant_id = await _tenant_id(sessions, depot)
    number = unique("PO")
    body = _po(number, ("BACK", 10), ("WIDGET", 5))
    created = await _post(api, depot, "/v1/purchase-orders", body)
    assert created.status_code == 201, created.text
    assert created.json()["workflow_id"] == purchase_order_workflow_id(tenant_id, number)
    path = f"/v1/purchase-orders/{number}"
    at_once = await _get(api, depot, path)  # readable right after the 201
    assert [x["ordered"] for x in at_once["lines"]] == [10, 5]
    assert (await _post(api, depot, "/v1/purchase-orders", body)).status_code == 200
    other = await _post(api, depot, "/v1/purchase-orders", _po(number, ("BACK", 9)))
    assert other.status_code == 409 and other.headers["content-type"] == PROBLEM
    await _until(api, depot, path, lambda b: b.get("created_at"))
    assert (await _incoming(api, depot, "BACK"))["WH1"] == (0, 10)

    order = {
        "order_number": unique("SO"),
        "customer_id": "C-1",
        "currency": "EUR",
        "lines": [{"line_id": "1", "sku": "BACK", "quantity": 4}],
    }
    assert (await _post(api, depot, "/v1/orders", order, Role.OMS)).status_code == 201
    order_path = f"/v1/orders/{order['order_number']}"
    await _until(api, depot, order_path, lambda b: b.get("status") == "backordered")

    receipt = f"{path}/receive"
    part = await _post(
        api, depot, receipt, {"location": "A1", "lines": [{"sku": "BACK", "quantity": 6}]}
    )
    assert part.status_code == 200, part.text
    po = part.json()
    assert po["status"] == "open"
    assert [(x["received"], x["outstanding"]) for x in po["lines"]] == [(6, 4), (0, 5)]
    assert (await _incoming(api, depot, "BACK"))["WH1"] == (6, 4)
    await _until(api, depot, order_path, lambda b: b.get("status") == "allocated")  # woken

    # Beyond the tolerance (0 by default): refused, naming the line; nothing changes.
    before = await snapshot(api, depot)
    over = await _post(
        api, depot, receipt, {"location": "A1", "lines": [{"line_no": 1, "quantity": 5}]}
    )
    assert over.status_code == 409 and over.headers["content-type"] == PROBLEM
    assert "lines.0 (PO line 1, BACK)" in over.json()["detail"]
    # A receipt without an Idempotency-Key (a retry of it would receive twice): 400.
    keyless = await api.post(
        receipt,
        json={"location": "A1", "lines": [{"line_no": 2, "quantity": 1}]},
        headers=depot.auth(Role.WMS),
    )
    assert keyless.status_code == 400 and keyless.json()["field"] == "Idempotency-Key"
    foreign = await _post(
        api, other_tenant, receipt, {"location": "A1", "lines": [{"line_no": 1, "quantity": 1}]}
    )
    assert foreign.status_code == 404
    assert (await api.get(path, headers=other_tenant.auth(Role.VIEWER))).status_code == 404
    assert await snapshot(api, depot) == before

    rest = {
        "location": "A1",
        "lines": [{"line_no": 1, "quantity": 4}, {"sku": "WIDGET", "quantity": 5}],
    }
    done = await _post(api, depot, receipt, rest)
    assert done.status_code == 200, done.text
    final = await _until(api, depot, path, lambda b: b.get("status") == "received")
    assert final["closed_at"] is not None and not final["late"]
    assert (await _incoming(api, depot, "BACK"))["WH1"] == (10, 0)

    listed = await _get(api, depot, "/v1/purchase-orders?status=received&sku=WIDGET")
    assert [p["po_number"] for p in listed["items"]] == [number]
    none = await _get(api, depot, "/v1/purchase-orders?supplier=NOBODY")
    assert none["items"] == []
    await feed(sessions, tenant_id)  # published: the feed renders them
    events = await _get(api, depot, f"/v1/events?subject=purchase_order:{number}")
    types = [e["type"] for e in events["items"]]
    assert types == [
        "purchase_order.created",
        "purchase_order.received",
        "purchase_order.received",
        "purchase_order.closed",
    ]
    assert events["items"][-1]["data"]["status"] == "received"
    assert events["items"][1]["data"]["lines"][0]["received"] == 6
    await _reconciled(sessions, tenant_id)


async def test_close_short_and_cancel_release_what_is_outstanding(
    api: httpx.AsyncClient, depot: TenantKeys, sessions: async_sessionmaker[AsyncSession]
) -> None:
    short = await _created(api, depot, ("WIDGET", 10))
    canceled = await _created(api, depot, ("WIDGET", 3))
    assert (await _incoming(api, depot, "WIDGET"))["WH1"] == (0, 13)
    receipt = {"location": "A1", "lines": [{"sku": "WIDGET", "quantity": 4}]}
    assert (await _post(api, depot, f"/v1/purchase-orders/{short}/receive", receipt)).is_success

    refused = await _post(api, depot, f"/v1/purchase-orders/{short}/cancel", {"reason": "x"})
    assert refused.status_code == 409 and "close it short" in refused.json()["detail"]
    no_reason = await _post(api, depot, f"/v1/purchase-orders/{short}/close", {})
    assert no_reason.status_code == 422
    closed = await _post(
        api, depot, f"/v1/purchase-orders/{short}/close", {"reason": "supplier is out"}
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["reason"] == "supplier is out"
    assert closed.json()["lines"][0]["outstanding"] == 0
    gone = await _post(
        api, depot, f"/v1/purchase-orders/{canceled}/cancel", {"reason": "ordered twice"}
    )
    assert gone.status_code == 200 and gone.json()["status"] == "canceled"
    assert (await _incoming(api, depot, "WIDGET"))["WH1"] == (4, 0)
    again = await _post(api, depot, f"/v1/purchase-orders/{short}/receive", receipt)
    assert again.status_code == 409
    await _reconciled(sessions, await _tenant_id(sessions, depot))


async def test_bad_purchase_orders_are_refused_and_record_nothing(
    api: httpx.AsyncClient, depot: TenantKeys, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenant_id = await _tenant_id(sessions, depot)
    async with sessions() as session, session.begin():
        await session.execute(
            text("UPDATE warehouses SET active = false WHERE tenant_id = :t AND code = 'WH2'"),
            {"t": tenant_id},
        )
        await session.execute(
            text("UPDATE items SET active = false WHERE tenant_id = :t AND sku = 'MILK'"),
            {"t": tenant_id},
        )
    naive = _po(unique("PO"), ("WIDGET", 1))
    naive["lines"][0]["expected_at"] = "2030-01-01T09:00:00"
    missing = _po(unique("PO"), ("WIDGET", 1))
    del missing["lines"][0]["expected_at"]
    wrong: list[tuple[dict[str, Any], str]] = [
        (_po(unique("PO"), ("WIDGET", 1), ("NOPE", 1)), "lines.1.sku"),
        (_po(unique("PO"), ("MILK", 1)), "lines.0.sku"),
        (_po(unique("PO"), ("WIDGET", 1), warehouse="WH2"), "warehouse"),
        (_po(unique("PO"), ("WIDGET", 1), warehouse="NOWH"), "warehouse"),
        (_po(unique("PO"), ("WIDGET", 0)), "lines.0.quantity"),
        (_po(unique("PO"), ("FABRIC", 1.1)), "lines.0.quantity"),
        (naive, "lines.0.expected_at"),
        (missing, "lines.0.expected_at"),
    ]
    before = await snapshot(api, depot)
    for body, field in wrong:
        response = await _post(api, depot, "/v1/purchase-orders", body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert field in response.text, (field, response.text)
    for role in (Role.VIEWER, Role.OMS):
        response = await _post(
            api, depot, "/v1/purchase-orders", _po(unique("PO"), ("WIDGET", 1)), role
        )
        assert response.status_code == 403
    assert await snapshot(api, depot) == before
    assert (await _get(api, depot, "/v1/purchase-orders"))["items"] == []
    assert (
        await api.get("/v1/purchase-orders/PO-NONE", headers=depot.auth(Role.VIEWER))
    ).status_code == 404


async def test_concurrent_receipts_of_the_remaining_quantity_cannot_both_pass(
    api: httpx.AsyncClient, depot: TenantKeys, sessions: async_sessionmaker[AsyncSession]
) -> None:
    number = await _created(api, depot, ("WIDGET", 10))
    receipt = f"/v1/purchase-orders/{number}/receive"
    first = await _post(
        api, depot, receipt, {"location": "A1", "lines": [{"line_no": 1, "quantity": 4}]}
    )
    assert first.status_code == 200
    rest = {"location": "A1", "lines": [{"line_no": 1, "quantity": 6}]}
    answers = await asyncio.gather(*(_post(api, depot, receipt, rest) for _ in range(2)))
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    assert (await _incoming(api, depot, "WIDGET"))["WH1"] == (10, 0)
    po = await _until(
        api, depot, f"/v1/purchase-orders/{number}", lambda b: b["status"] == "received"
    )
    assert po["lines"][0]["received"] == 10
    await _reconciled(sessions, await _tenant_id(sessions, depot))
