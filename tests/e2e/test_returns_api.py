"""Returns through the API on the dev server: an order ships, part of it comes back
with mixed dispositions; stock, ledger, refund and the order change exactly."""

import asyncio
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.worker import Worker

from db.models import Tenant
from db.stock.reconcile import find_violations
from domain.roles import Role
from tests.conftest import TenantKeys, unique
from tests.e2e.inventory_setup import build_catalogue, key, receive, snapshot
from tests.e2e.test_orders_api import _fulfil_all, _until

PROBLEM = "application/problem+json"


async def _violations(sessions: async_sessionmaker[AsyncSession], tenant: TenantKeys) -> list[Any]:
    async with sessions() as session:
        tenant_id = await session.scalar(select(Tenant.id).where(Tenant.slug == tenant.slug))
        return await find_violations(session, tenant_id)


@pytest.fixture
async def shipped(
    api: httpx.AsyncClient, tenant: TenantKeys, dev_worker: Worker
) -> tuple[TenantKeys, str]:
    """A shipped order: 4 WIDGET, 2 INSPECT (needs inspection), 2 MILK of lot L1,
    2.5 yd FABRIC."""
    wms = tenant.auth(Role.WMS)
    await build_catalogue(api, tenant)
    item = {"sku": "INSPECT", "name": "needs inspection", "requires_inspection": True}
    assert (await api.post("/v1/items", json=item, headers=wms)).status_code == 201
    milk = {"lot": "L1", "expires_at": "2031-01-01"}
    for sku, quantity, extra in (
        ("WIDGET", 10, {}),
        ("INSPECT", 5, {}),
        ("FABRIC", 5, {}),
        ("MILK", 6, milk),
    ):
        assert (await receive(api, tenant, sku, quantity, **extra)).status_code == 201
    lines = [
        {"line_id": "1", "sku": "WIDGET", "quantity": 4, "unit_price": 9.5},
        {"line_id": "2", "sku": "INSPECT", "quantity": 2, "unit_price": 3},
        {"line_id": "3", "sku": "MILK", "quantity": 2, "unit_price": 2},
        {"line_id": "4", "sku": "FABRIC", "quantity": 2.5, "unit_price": 12},
    ]
    number = unique("SO")
    body = {"order_number": number, "customer_id": "C-R", "currency": "EUR", "lines": lines}
    created = await api.post("/v1/orders", json=body, headers=tenant.auth(Role.OMS))
    assert created.status_code == 201, created.text
    await _until(api, tenant, number, "allocated")
    await _fulfil_all(api, tenant, number)
    await _until(api, tenant, number, "shipped")
    return tenant, number


def _level(availability: dict[str, Any], warehouse: str) -> dict[str, Any]:
    rows: list[dict[str, Any]] = [x for x in availability["items"] if x["warehouse"] == warehouse]
    [row] = rows
    return row


async def test_a_return_with_mixed_dispositions(
    api: httpx.AsyncClient,
    shipped: tuple[TenantKeys, str],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    tenant, number = shipped
    oms, wms, viewer = tenant.auth(Role.OMS), tenant.auth(Role.WMS), tenant.auth(Role.VIEWER)
    rma = unique("RMA")
    body = {
        "rma_number": rma,
        "reason": "not as described",
        "lines": [
            {"line_id": "1", "quantity": 3},
            {"line_id": "2", "quantity": 2},
            {"line_id": "3", "quantity": 1},
            {"line_id": "4", "quantity": 1.25},
        ],
    }
    created = await api.post(f"/v1/orders/{number}/returns", json=body, headers=oms)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "requested"
    read = (await api.get(f"/v1/returns/{rma}", headers=viewer)).json()
    assert read["expires_at"] == created.json()["expires_at"] is not None  # the deadline kept
    assert (
        await api.post(f"/v1/orders/{number}/returns", json=body, headers=oms)
    ).status_code == 200
    other = await api.post(
        f"/v1/orders/{number}/returns", headers=oms, json={**body, "reason": "changed my mind"}
    )
    assert other.status_code == 409 and other.headers["content-type"] == PROBLEM

    # out of order: nothing can be received before approval
    before = await snapshot(api, tenant)
    receipt: dict[str, Any] = {
        "warehouse": "WH1",
        "location": "A2",
        "lines": [
            {"line_id": "1", "received": 3, "accepted": 2, "disposition": "restock"},
            {"line_id": "2", "received": 2, "accepted": 2, "disposition": "restock"},
            {"line_id": "3", "received": 1, "accepted": 1, "disposition": "dispose", "lot": "L1"},
            {"line_id": "4", "received": 1.25, "accepted": 1.25, "disposition": "repair"},
        ],
    }
    early = await api.post(f"/v1/returns/{rma}/receive", json=receipt, headers=wms)
    assert early.status_code == 409 and early.headers["content-type"] == PROBLEM
    assert (await api.post(f"/v1/returns/{rma}/close", headers=oms)).status_code == 409
    approved = await api.post(f"/v1/returns/{rma}/approve", json={"reason": "ok"}, headers=oms)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert (await api.post(f"/v1/returns/{rma}/approve", json={}, headers=oms)).status_code == 409
    # a receipt that does not fit the return
    for bad, status in (
        ({**receipt, "lines": [{**receipt["lines"][0], "received": 4}]}, 409),  # > requested
        ({**receipt, "lines": [{**receipt["lines"][0], "accepted": 4}]}, 409),  # > received
        ({**receipt, "lines": [{**receipt["lines"][0], "line_id": "9"}]}, 422),  # unknown line
        ({**receipt, "lines": [{**receipt["lines"][0], "disposition": "resell"}]}, 422),
        ({**receipt, "lines": [{**receipt["lines"][0], "received": 0.5}]}, 422),  # not a unit
        ({**receipt, "location": "NOPE"}, 404),
        ({**receipt, "lines": [{**receipt["lines"][2], "lot": None}]}, 422),  # lot-tracked
    ):
        refused = await api.post(f"/v1/returns/{rma}/receive", json=bad, headers=wms)
        assert refused.status_code == status, (bad, refused.text)
        assert refused.headers["content-type"] == PROBLEM
    assert await snapshot(api, tenant) == before
    assert (
        await api.post(f"/v1/returns/{rma}/receive", json=receipt, headers=oms)
    ).status_code == 403

    received = await api.post(f"/v1/returns/{rma}/receive", json=receipt, headers=wms)
    assert received.status_code == 200, received.text
    lines = {x["line_id"]: x for x in received.json()["lines"]}
    assert (lines["1"]["accepted"], lines["1"]["rejected"]) == (2, 1)
    assert [lines[n]["stock_lot"] for n in "1234"] == [None, f"{rma}-Q", "L1", f"{rma}-R"]

    # stock: restocked widgets are available; the rest is held aside or gone
    widget = _level(
        (await api.get("/v1/inventory/availability?sku=WIDGET", headers=viewer)).json(), "WH1"
    )
    assert widget["on_hand"] == 10 - 4 + 2
    balances = (await api.get("/v1/inventory/balances?warehouse=WH1", headers=viewer)).json()[
        "items"
    ]
    by_sku = {b["sku"]: b for b in balances}
    inspect_lots = {(x["location"], x["lot"]): x["on_hand"] for x in by_sku["INSPECT"]["locations"]}
    assert inspect_lots[("A2", f"{rma}-Q")] == 2
    fabric_lots = {(x["location"], x["lot"]): x["on_hand"] for x in by_sku["FABRIC"]["locations"]}
    assert fabric_lots[("A2", f"{rma}-R")] == 1.25
    milk = _level(
        (await api.get("/v1/inventory/availability?sku=MILK", headers=viewer)).json(), "WH1"
    )
    assert milk["on_hand"] == 6 - 2  # disposed: in and out again
    ledger = (await api.get(f"/v1/inventory/movements?reference={rma}", headers=viewer)).json()[
        "items"
    ]
    booked = sorted((m["type"], m["sku"], m["quantity"], m["lot"]) for m in ledger)
    assert booked == sorted(
        [
            ("return_restock", "WIDGET", 2, None),
            ("return_restock", "INSPECT", 2, f"{rma}-Q"),
            ("return_restock", "MILK", 1, "L1"),
            ("scrap", "MILK", 1, "L1"),
            ("return_restock", "FABRIC", 1.25, f"{rma}-R"),
        ]
    )
    # quarantined and repaired units are held: on hand, never promised
    inspect = _level(
        (await api.get("/v1/inventory/availability?sku=INSPECT", headers=viewer)).json(), "WH1"
    )
    assert (inspect["on_hand"], inspect["held"], inspect["available"]) == (5, 2, 3)
    fabric = _level(
        (await api.get("/v1/inventory/availability?sku=FABRIC", headers=viewer)).json(), "WH1"
    )
    assert (fabric["held"], fabric["available"]) == (1.25, 2.5)
    too_much = {"warehouse": "WH1", "sku": "INSPECT", "quantity": 4, "source_type": "manual"}
    short = await api.post("/v1/inventory/reservations", json=too_much, headers={**wms, **key()})
    assert short.status_code == 409
    # inspection passed: the lot is released, its units become available
    release = {"sku": "INSPECT", "lot": f"{rma}-Q", "reason": "inspection passed"}
    release_key = key()
    released = await api.post(
        "/v1/inventory/lot-releases", json=release, headers={**wms, **release_key}
    )
    assert released.status_code == 201, released.text
    assert released.json()["released"] == {"WH1": 2}
    replay = await api.post(
        "/v1/inventory/lot-releases", json=release, headers={**wms, **release_key}
    )
    assert replay.headers.get("Idempotent-Replayed") == "true"
    again = await api.post("/v1/inventory/lot-releases", json=release, headers={**wms, **key()})
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
    unknown = await api.post(
        "/v1/inventory/lot-releases", headers={**wms, **key()}, json={**release, "lot": "NOPE"}
    )
    assert unknown.status_code == 404
    inspect = _level(
        (await api.get("/v1/inventory/availability?sku=INSPECT", headers=viewer)).json(), "WH1"
    )
    assert (inspect["on_hand"], inspect["held"], inspect["available"]) == (5, 0, 5)
    assert (
        await api.post("/v1/inventory/reservations", json=too_much, headers={**wms, **key()})
    ).status_code == 201
    # a second receipt of the same return is refused and books nothing
    again = await api.post(f"/v1/returns/{rma}/receive", json=receipt, headers=wms)
    assert again.status_code == 409

    closed = await api.post(f"/v1/returns/{rma}/close", headers=oms)
    assert closed.status_code == 200, closed.text
    refund = closed.json()["refund"]
    # accepted x price: 2 x 9.5 + 2 x 3 + 1 x 2 + 1.25 x 12
    assert (Decimal(str(refund["amount"])), refund["currency"]) == (Decimal("42.00"), "EUR")

    order = await _until(api, tenant, number, "partially_returned")
    assert [x["returned"] for x in order["lines"]] == [3, 2, 1, 1.25]
    # what is left to return: 1 widget of 4 (3 came back)
    too_many = {
        "rma_number": unique("RMA"),
        "reason": "x",
        "lines": [{"line_id": "1", "quantity": 2}],
    }
    refused = await api.post(f"/v1/orders/{number}/returns", json=too_many, headers=oms)
    assert refused.status_code == 422 and refused.json()["field"] == "lines.0.quantity"
    rest = {**too_many, "lines": [{"line_id": "1", "quantity": 1}]}
    assert (
        await api.post(f"/v1/orders/{number}/returns", json=rest, headers=oms)
    ).status_code == 201
    # a second return of the same tenant goes all the way too (its own stock keys)
    second = rest["rma_number"]
    step = {**oms, **key()}  # an Idempotency-Key: a repeat answers the same, once
    for _ in range(2):
        approved = await api.post(f"/v1/returns/{second}/approve", json={}, headers=step)
        assert approved.status_code == 200, approved.text
    last = {
        "warehouse": "WH1",
        "location": "A1",
        "lines": [{"line_id": "1", "received": 1, "accepted": 1, "disposition": "restock"}],
    }
    assert (await api.post(f"/v1/returns/{second}/receive", json=last, headers=wms)).is_success
    assert (await api.post(f"/v1/returns/{second}/close", headers=oms)).json()["status"] == "closed"
    # repeating the request after the return ended answers with it
    again_rest = await api.post(f"/v1/orders/{number}/returns", json=rest, headers=oms)
    assert (again_rest.status_code, again_rest.json()["status"]) == (200, "closed")
    order = await _until(api, tenant, number, "partially_returned")
    assert order["lines"][0]["returned"] == 4
    # held units of an untracked item can be reached by their lot: scrapped beyond repair
    scrap = {
        "warehouse": "WH1",
        "location": "A2",
        "sku": "FABRIC",
        "lot": f"{rma}-R",
        "delta": -1.25,
        "reason": "beyond repair",
    }
    scrapped = await api.post("/v1/inventory/adjustments", json=scrap, headers={**wms, **key()})
    assert scrapped.status_code == 201, scrapped.text
    fabric = _level(
        (await api.get("/v1/inventory/availability?sku=FABRIC", headers=viewer)).json(), "WH1"
    )
    assert (fabric["held"], fabric["available"]) == (0, 2.5)
    listed = (await api.get(f"/v1/returns?order_number={number}", headers=viewer)).json()["items"]
    assert {rma, second} <= {x["rma_number"] for x in listed}
    requested = [x["requested_at"] for x in listed]  # newest first, each with its time
    assert None not in requested and requested == sorted(requested, reverse=True)
    assert await _violations(sessions, tenant) == []


async def test_bad_return_requests_are_refused_and_claim_nothing(
    api: httpx.AsyncClient, shipped: tuple[TenantKeys, str], other_tenant: TenantKeys
) -> None:
    tenant, number = shipped
    oms = tenant.auth(Role.OMS)

    def body(**change: Any) -> dict[str, Any]:
        return {
            "rma_number": unique("RMA"),
            "reason": "r",
            "lines": [{"line_id": "1", "quantity": 1}],
            **change,
        }

    cases = [
        (body(lines=[{"line_id": "1", "quantity": 5}]), 422, "lines.0.quantity"),  # > shipped
        (body(lines=[{"line_id": "9", "quantity": 1}]), 422, "lines.0.line_id"),
        (body(lines=[{"line_id": "4", "quantity": 0.1}]), 422, "lines.0.quantity"),  # not 0.25 yd
        (body(lines=[]), 422, None),
        (body(reason=""), 422, None),
        (body(lines=[{"line_id": "1", "quantity": 1}, {"line_id": "1", "quantity": 1}]), 422, None),
    ]
    for bad, status, field in cases:
        refused = await api.post(f"/v1/orders/{number}/returns", json=bad, headers=oms)
        assert refused.status_code == status, (bad, refused.text)
        assert refused.headers["content-type"] == PROBLEM
        if field:
            assert refused.json()["field"] == field
    unknown = await api.post("/v1/orders/NOPE/returns", json=body(), headers=oms)
    assert unknown.status_code == 404
    # another tenant can neither request against this order nor see its returns
    theirs = await api.post(
        f"/v1/orders/{number}/returns", json=body(), headers=other_tenant.auth(Role.OMS)
    )
    assert theirs.status_code == 404
    mine = body()
    assert (
        await api.post(f"/v1/orders/{number}/returns", json=mine, headers=oms)
    ).status_code == 201
    rma = mine["rma_number"]
    assert (
        await api.get(f"/v1/returns/{rma}", headers=other_tenant.auth(Role.VIEWER))
    ).status_code == 404
    approve = await api.post(
        f"/v1/returns/{rma}/approve", json={}, headers=other_tenant.auth(Role.OMS)
    )
    assert approve.status_code == 404
    assert (
        await api.post(f"/v1/returns/{rma}/approve", json={}, headers=tenant.auth(Role.WMS))
    ).status_code == 403
    # nothing was claimed by the refusals: all 4 widgets minus this 1 are returnable
    rest = body(lines=[{"line_id": "1", "quantity": 3}])
    assert (
        await api.post(f"/v1/orders/{number}/returns", json=rest, headers=oms)
    ).status_code == 201
    # a rejected return gives its claim back
    rejected = await api.post(f"/v1/returns/{rma}/reject", json={"reason": "late"}, headers=oms)
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert (
        await api.post(f"/v1/returns/{rma}/reject", json={"reason": "x"}, headers=oms)
    ).status_code == 409
    last = body(lines=[{"line_id": "1", "quantity": 1}])
    for _ in range(50):  # the claim follows the workflow's projection
        answer = await api.post(f"/v1/orders/{number}/returns", json=last, headers=oms)
        if answer.status_code == 201:
            break
        assert answer.status_code == 422
        await asyncio.sleep(0.1)
    assert answer.status_code == 201


async def test_concurrent_requests_never_return_more_than_shipped(
    api: httpx.AsyncClient, shipped: tuple[TenantKeys, str]
) -> None:
    tenant, number = shipped
    oms = tenant.auth(Role.OMS)
    bodies = [
        {"rma_number": unique("RMA"), "reason": "r", "lines": [{"line_id": "1", "quantity": 1}]}
        for _ in range(12)
    ]
    answers = await asyncio.gather(
        *(api.post(f"/v1/orders/{number}/returns", json=b, headers=oms) for b in bodies)
    )
    codes = sorted(a.status_code for a in answers)
    assert codes == [201] * 4 + [422] * 8, [
        a.text for a in answers if a.status_code not in (201, 422)
    ]


async def test_restocked_returns_wake_a_backordered_order(
    api: httpx.AsyncClient, tenant: TenantKeys, dev_worker: Worker
) -> None:
    oms, wms = tenant.auth(Role.OMS), tenant.auth(Role.WMS)
    await build_catalogue(api, tenant)
    item = {"sku": "BACK", "name": "may wait", "backorder_policy": "allow"}
    assert (await api.post("/v1/items", json=item, headers=wms)).status_code == 201
    assert (await receive(api, tenant, "BACK", 1)).status_code == 201
    first, second = unique("SO"), unique("SO")
    for number in (first, second):
        line = {"line_id": "1", "sku": "BACK", "quantity": 1, "unit_price": 5}
        body = {"order_number": number, "customer_id": "C", "currency": "EUR", "lines": [line]}
        assert (await api.post("/v1/orders", json=body, headers=oms)).status_code == 201
        await _until(api, tenant, number, "allocated" if number == first else "backordered")
    await _fulfil_all(api, tenant, first)
    await _until(api, tenant, first, "shipped")
    rma = unique("RMA")
    request = {"rma_number": rma, "reason": "r", "lines": [{"line_id": "1", "quantity": 1}]}
    assert (await api.post(f"/v1/orders/{first}/returns", json=request, headers=oms)).is_success
    assert (await api.post(f"/v1/returns/{rma}/approve", json={}, headers=oms)).is_success
    receipt = {
        "warehouse": "WH1",
        "location": "A1",
        "lines": [{"line_id": "1", "received": 1, "accepted": 1, "disposition": "restock"}],
    }
    assert (await api.post(f"/v1/returns/{rma}/receive", json=receipt, headers=wms)).is_success
    # woken by the return at once, not by the minute sweep (no schedule runs in tests)
    woken = await _until(api, tenant, second, "allocated", seconds=10)
    assert woken["lines"][0]["allocated"] == 1


async def test_a_serial_tracked_unit_comes_back_by_its_serial(
    api: httpx.AsyncClient, tenant: TenantKeys, dev_worker: Worker
) -> None:
    oms, wms, viewer = tenant.auth(Role.OMS), tenant.auth(Role.WMS), tenant.auth(Role.VIEWER)
    await build_catalogue(api, tenant)
    assert (await receive(api, tenant, "PHONE", 2, serials=["SN-1", "SN-2"])).status_code == 201
    number = unique("SO")
    line = {"line_id": "1", "sku": "PHONE", "quantity": 1, "unit_price": 300}
    body = {"order_number": number, "customer_id": "C", "currency": "EUR", "lines": [line]}
    assert (await api.post("/v1/orders", json=body, headers=oms)).status_code == 201
    order = await _until(api, tenant, number, "allocated")
    [allocation] = order["fulfillment_requests"][0]["lines"][0]["allocations"]
    serial = allocation["serial"]
    await _fulfil_all(api, tenant, number)
    await _until(api, tenant, number, "shipped")

    rma = unique("RMA")
    request = {"rma_number": rma, "reason": "broken", "lines": [{"line_id": "1", "quantity": 1}]}
    assert (await api.post(f"/v1/orders/{number}/returns", json=request, headers=oms)).is_success
    assert (await api.post(f"/v1/returns/{rma}/approve", json={}, headers=oms)).is_success
    receipt: dict[str, Any] = {
        "warehouse": "WH1",
        "location": "A2",
        "lines": [{"line_id": "1", "received": 1, "accepted": 1, "disposition": "restock"}],
    }
    before = await snapshot(api, tenant)
    for serials, status in (
        ([], 422),
        (["SN-1", "SN-2"], 422),
        ([("SN-2" if serial == "SN-1" else "SN-1")], 409),
    ):
        receipt["lines"][0]["serials"] = serials  # none, too many, one still in stock
        refused = await api.post(f"/v1/returns/{rma}/receive", json=receipt, headers=wms)
        assert refused.status_code == status, (serials, refused.text)
    assert await snapshot(api, tenant) == before
    receipt["lines"][0]["serials"] = [serial]
    received = await api.post(f"/v1/returns/{rma}/receive", json=receipt, headers=wms)
    assert received.status_code == 200, received.text
    balances = (await api.get("/v1/inventory/balances?sku=PHONE", headers=viewer)).json()["items"]
    places = {(p["location"], p["serial"]) for b in balances for p in b["locations"]}
    assert ("A2", serial) in places
