"""Lot holds and recalls through the API, with the worker running: a recall of a lot
an order had allocated re-allocates it from another lot and reports, as JSON and as
CSV, the customer who received the lot; bad holds and recalls are problems that
change nothing; the old release route and the new one both release."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.roles import Role
from tests.conftest import TenantKeys
from tests.e2e.inventory_setup import key, receive
from tests.e2e.test_orders_api import ADDRESS, PROBLEM, _order, _until, shop
from tests.integration.test_outbox import _publish_all as _publish

__all__ = ["shop"]

SOON = (datetime.now(UTC).date() + timedelta(days=10)).isoformat()
LATER = (datetime.now(UTC).date() + timedelta(days=40)).isoformat()


async def _ship(api: httpx.AsyncClient, tenant: TenantKeys, order: dict[str, Any]) -> None:
    wms = tenant.auth(Role.WMS)
    request = order["fulfillment_requests"][0]
    step = f"/v1/fulfillment-requests/{request['id']}"
    lines = [{"line_id": x["line_id"], "quantity": x["quantity"]} for x in request["lines"]]
    assert (await api.post(f"{step}/accept", headers=wms)).status_code == 200
    assert (await api.post(f"{step}/pick", json={"lines": lines}, headers=wms)).status_code == 200
    package = {"package_number": "P1", "lines": lines}
    assert (
        await api.post(f"{step}/pack", json={"packages": [package]}, headers=wms)
    ).status_code == 200
    ship = {"carrier": "DHL", "tracking_numbers": ["00340434"]}
    assert (await api.post(f"{step}/ship", json=ship, headers=wms)).status_code == 200


def _lots(order: dict[str, Any]) -> list[str]:
    return sorted(
        a["lot"]
        for r in order["fulfillment_requests"]
        for x in r["lines"]
        for a in x["allocations"]
        if a["status"] == "allocated" and float(a["quantity"]) > 0
    )


async def _recall_done(api: httpx.AsyncClient, tenant: TenantKeys, rid: int) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(200):
        body = (await api.get(f"/v1/recalls/{rid}", headers=tenant.auth(Role.VIEWER))).json()
        if body.get("status") == "completed":
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"recall {rid} never completed: {body}")


async def test_a_recall_through_the_api_reallocates_the_open_order_and_lists_who_received_it(
    api: httpx.AsyncClient, shop: TenantKeys, sessions: async_sessionmaker[AsyncSession]
) -> None:
    oms, wms, viewer = shop.auth(Role.OMS), shop.auth(Role.WMS), shop.auth(Role.VIEWER)
    assert (await receive(api, shop, "MILK", 5, lot="A", expires_at=SOON)).status_code == 201
    assert (await receive(api, shop, "MILK", 5, lot="B", expires_at=LATER)).status_code == 201
    line = {"line_id": "1", "sku": "MILK", "quantity": 2, "unit_price": 1.5}
    received = _order([line], customer_id="C-RECEIVED", ship_to=ADDRESS)
    assert (await api.post("/v1/orders", json=received, headers=oms)).status_code == 201
    await _ship(api, shop, await _until(api, shop, received["order_number"], "allocated"))
    await _until(api, shop, received["order_number"], "shipped")
    open_order = _order([line], customer_id="C-OPEN")
    assert (await api.post("/v1/orders", json=open_order, headers=oms)).status_code == 201
    assert _lots(await _until(api, shop, open_order["order_number"], "allocated")) == ["A"]

    body = {"sku": "MILK", "lots": ["A"], "reason": "supplier: contaminated batch"}
    headers = {**wms, **key()}
    started = await api.post("/v1/recalls", json=body, headers=headers)
    assert started.status_code == 201, started.text
    rid = started.json()["id"]
    again = await api.post("/v1/recalls", json=body, headers=headers)
    assert (again.status_code, again.json()["id"]) == (200, rid)
    report = await _recall_done(api, shop, rid)
    assert report["held"] == {"A": {"WH1": 3}}
    [shipment] = report["shipments"]
    assert (shipment["order_number"], shipment["customer_id"], shipment["quantity"]) == (
        received["order_number"],
        "C-RECEIVED",
        2,
    )
    assert shipment["ship_to"]["name"] == ADDRESS["name"]
    for _ in range(100):
        order = (await api.get(f"/v1/orders/{open_order['order_number']}", headers=viewer)).json()
        if order["status"] == "allocated" and _lots(order) == ["B"]:
            break
        await asyncio.sleep(0.1)
    assert _lots(order) == ["B"]
    report = (await api.get(f"/v1/recalls/{rid}", headers=viewer)).json()
    [affected] = report["orders"]
    assert (affected["order_number"], affected["status"], affected["lots"]) == (
        open_order["order_number"],
        "allocated",
        ["B"],
    )
    exported = await api.get(f"/v1/recalls/{rid}?format=csv", headers=viewer)
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["order_number"], r["customer_id"], r["lot"]) for r in rows] == [
        (received["order_number"], "C-RECEIVED", "A")
    ]
    by_accept = await api.get(f"/v1/recalls/{rid}", headers={**viewer, "Accept": "text/csv"})
    assert by_accept.text == exported.text
    listed = (await api.get("/v1/recalls", headers=viewer)).json()
    assert [r["id"] for r in listed["items"]] == [rid]
    await _publish(sessions)  # the relay's step
    events = (await api.get("/v1/events?type=recall.*", headers=viewer)).json()["items"]
    assert [e["type"] for e in events] == ["recall.started", "recall.completed"]
    assert events[1]["data"]["shipments"][0]["customer_id"] == "C-RECEIVED"


async def test_bad_lot_holds_and_recalls_are_problems_that_change_nothing(
    api: httpx.AsyncClient, shop: TenantKeys
) -> None:
    wms, viewer = shop.auth(Role.WMS), shop.auth(Role.VIEWER)
    assert (await receive(api, shop, "MILK", 4, lot="OK", expires_at=SOON)).status_code == 201
    before = (await api.get("/v1/inventory/availability?sku=MILK", headers=viewer)).json()

    async def hold(lot: str, **extra: Any) -> httpx.Response:
        body = {"sku": "MILK", "lot": lot, "reason": "broken seal", **extra}
        return await api.post("/v1/lots/hold", json=body, headers={**wms, **key()})

    unknown = await hold("NOPE")
    assert (unknown.status_code, unknown.headers["content-type"]) == (404, PROBLEM)
    assert "lot" in unknown.text
    assert (await hold("OK", status="expired")).status_code == 422
    empty = await api.post(
        "/v1/recalls", json={"sku": "MILK", "lots": [], "reason": "x"}, headers=wms
    )
    assert (empty.status_code, empty.headers["content-type"]) == (422, PROBLEM)
    assert "lots" in empty.text
    missing = await api.post(
        "/v1/recalls", json={"sku": "MILK", "lots": ["OK", "NOPE"], "reason": "x"}, headers=wms
    )
    assert missing.status_code == 422 and "lots.1" in missing.text
    no_item = await api.post(
        "/v1/recalls", json={"sku": "NOSUCH", "lots": ["OK"], "reason": "x"}, headers=wms
    )
    assert (no_item.status_code, no_item.json()["field"]) == (422, "sku")
    assert (await api.get("/v1/recalls", headers=viewer)).json()["items"] == []
    after = (await api.get("/v1/inventory/availability?sku=MILK", headers=viewer)).json()
    assert after == before

    held = await hold("OK", status="quarantine")
    assert held.status_code == 201, held.text
    assert (held.json()["status"], held.json()["held"]) == ("quarantine", {"WH1": 4})
    twice = await hold("OK")
    assert (twice.status_code, twice.headers["content-type"]) == (409, PROBLEM)
    release = {"sku": "MILK", "lot": "OK", "reason": "inspection passed"}
    released = await api.post("/v1/lots/release", json=release, headers={**wms, **key()})
    assert released.status_code == 201 and released.json()["released"] == {"WH1": 4}
    assert (await hold("OK")).status_code == 201
    old_route = await api.post("/v1/inventory/lot-releases", json=release, headers={**wms, **key()})
    assert old_route.status_code == 201
    assert (await api.get("/v1/inventory/availability?sku=MILK", headers=viewer)).json() == before
    forbidden = await api.post(
        "/v1/lots/hold",
        json={"sku": "MILK", "lot": "OK", "reason": "x"},
        headers={**viewer, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert forbidden.status_code == 403


async def test_a_hold_through_the_api_tells_the_order_which_reallocates_from_another_lot(
    api: httpx.AsyncClient, shop: TenantKeys
) -> None:
    oms, wms, viewer = shop.auth(Role.OMS), shop.auth(Role.WMS), shop.auth(Role.VIEWER)
    assert (await receive(api, shop, "MILK", 3, lot="A", expires_at=SOON)).status_code == 201
    assert (await receive(api, shop, "MILK", 3, lot="B", expires_at=LATER)).status_code == 201
    order = _order([{"line_id": "1", "sku": "MILK", "quantity": 2, "unit_price": 1.5}])
    assert (await api.post("/v1/orders", json=order, headers=oms)).status_code == 201
    assert _lots(await _until(api, shop, order["order_number"], "allocated")) == ["A"]

    body = {"sku": "MILK", "lot": "A", "reason": "cracked caps"}
    held = await api.post("/v1/lots/hold", json=body, headers={**wms, **key()})
    assert held.status_code == 201, held.text
    [pulled] = held.json()["pulled"]
    assert (pulled["order_number"], pulled["quantity"]) == (order["order_number"], 2)
    for _ in range(100):
        now = (await api.get(f"/v1/orders/{order['order_number']}", headers=viewer)).json()
        if now["status"] == "allocated" and _lots(now) == ["B"]:
            break
        await asyncio.sleep(0.1)
    assert _lots(now) == ["B"]
    level = (await api.get("/v1/inventory/availability?sku=MILK", headers=viewer)).json()
    assert (level["items"][0]["allocated"], level["items"][0]["held"]) == (2, 3)
