"""A backordered customer's promise date from a real purchase order (its workflow and
API): it comes from the PO, moves when the PO is rescheduled and when it is late,
and the order ships once the PO is received."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.worker import Worker

from db.stock.reconcile import find_violations
from domain.roles import Role
from tests.conftest import TenantKeys, unique
from tests.e2e.inventory_setup import build_catalogue, key


@pytest.fixture
async def shop(api: httpx.AsyncClient, tenant: TenantKeys, dev_worker: Worker) -> TenantKeys:
    await build_catalogue(api, tenant)
    item = {"sku": "BACK", "name": "backorderable", "backorder_policy": "allow"}
    assert (
        await api.post("/v1/items", json=item, headers=tenant.auth(Role.WMS))
    ).status_code == 201
    return tenant


async def _step(
    api: httpx.AsyncClient, shop: TenantKeys, method: str, path: str, body: Any = None
) -> dict[str, Any]:
    response = await api.request(method, path, json=body, headers={**shop.auth(Role.WMS), **key()})
    assert response.status_code in (200, 201), response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _until(
    api: httpx.AsyncClient, shop: TenantKeys, path: str, test: Callable[[Any], Any]
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(300):
        body = (await api.get(path, headers=shop.auth(Role.VIEWER))).json()
        if test(body):
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path}: {body}")


def _promise(order: dict[str, Any]) -> tuple[datetime | None, str | None]:
    line = order["lines"][0]
    at = line["expected_at"]
    return (
        None if at is None else datetime.fromisoformat(at),
        line["covered_by"] and line["covered_by"]["id"],
    )


async def test_a_backordered_customer_sees_a_po_date_that_moves_and_the_order_ships_on_receipt(
    api: httpx.AsyncClient, shop: TenantKeys, sessions: async_sessionmaker[AsyncSession]
) -> None:
    po, due = unique("PO"), (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    body = {
        "po_number": po,
        "supplier": "ACME",
        "warehouse": "WH1",
        "lines": [{"sku": "BACK", "quantity": 5, "expected_at": due.isoformat()}],
    }
    await _step(api, shop, "POST", "/v1/purchase-orders", body)
    await _until(api, shop, f"/v1/purchase-orders/{po}", lambda b: b.get("created_at"))
    number = unique("SO")
    order = {
        "order_number": number,
        "customer_id": "C-1",
        "currency": "EUR",
        "lines": [{"line_id": "1", "sku": "BACK", "quantity": 4}],
    }
    placed = await api.post("/v1/orders", json=order, headers=shop.auth(Role.OMS))
    assert placed.status_code == 201, placed.text
    path = f"/v1/orders/{number}"

    # The promise comes from the PO.
    waiting = await _until(api, shop, path, lambda b: b.get("status") == "backordered")
    assert _promise(waiting) == (due, po)
    listed = (await api.get("/v1/backorders", headers=shop.auth(Role.VIEWER))).json()["items"]
    assert [(x["order_number"], x["covered_by"]["id"]) for x in listed] == [(number, po)]

    # The supplier moves the date: the promise moves with it.
    moved = due + timedelta(days=4)
    patch = {"lines": [{"line_no": 1, "expected_at": moved.isoformat()}]}
    await _step(api, shop, "PATCH", f"/v1/purchase-orders/{po}", patch)
    await _until(api, shop, path, lambda b: _promise(b) == (moved, po))

    # Then time passes it by (a date a second away): late, it counts from now + grace.
    soon = datetime.now(UTC) + timedelta(seconds=1)
    patch = {"lines": [{"line_no": 1, "expected_at": soon.isoformat()}]}
    await _step(api, shop, "PATCH", f"/v1/purchase-orders/{po}", patch)
    late = await _until(
        api, shop, path, lambda b: (_promise(b)[0] or soon) > soon + timedelta(hours=1)
    )
    late_at = _promise(late)[0]
    assert late_at is not None and late_at >= soon + timedelta(hours=24)
    assert _promise(late)[1] == po

    # The PO is received: the order wakes, is allocated and ships; nothing waits.
    await _step(
        api,
        shop,
        "POST",
        f"/v1/purchase-orders/{po}/receive",
        {"location": "A1", "lines": [{"sku": "BACK", "quantity": 5}]},
    )
    allocated = await _until(api, shop, path, lambda b: b.get("status") == "allocated")
    assert _promise(allocated) == (None, None)
    [request] = allocated["fulfillment_requests"]
    lines = [{"line_id": "1", "quantity": 4}]
    for step, step_body in (
        ("accept", None),
        ("pick", {"lines": lines}),
        ("pack", {"packages": [{"package_number": "P1", "lines": lines}]}),
        ("ship", {"carrier": "DHL", "tracking_numbers": ["T1"]}),
    ):
        await _step(
            api, shop, "POST", f"/v1/fulfillment-requests/{request['id']}/{step}", step_body
        )
    await _until(api, shop, path, lambda b: b.get("status") == "shipped")
    assert (await api.get("/v1/backorders", headers=shop.auth(Role.VIEWER))).json()["items"] == []
    async with sessions() as session, session.begin():
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        tenant_id = await session.scalar(
            text("SELECT id FROM tenants WHERE slug = :s"), {"s": shop.slug}
        )
        assert await find_violations(session, int(tenant_id)) == []
