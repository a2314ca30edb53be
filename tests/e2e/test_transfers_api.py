"""Transfers through the API, on the dev server with the project's worker: stock
moves between warehouses with a discrepancy, a backordered order at the
destination wakes and ships, and every wrong request changes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from contracts.transfers import transfer_workflow_id
from db.alerts import NewAlert, raise_alert
from db.stock.reconcile import find_violations
from domain.roles import Role
from tests.conftest import TenantKeys, unique
from tests.e2e.inventory_setup import build_catalogue, key, receive, snapshot
from tests.integration.order_helpers import quiet_history

PROBLEM = "application/problem+json"


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


async def _books_are_right(sessions: async_sessionmaker[AsyncSession], tenant_id: int) -> None:
    async with sessions() as session, session.begin():
        await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        assert await find_violations(session, tenant_id) == []


async def _until(
    api: httpx.AsyncClient, tenant: TenantKeys, path: str, status: str, seconds: float = 30
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(int(seconds / 0.1)):
        body = (await api.get(path, headers=tenant.auth(Role.VIEWER))).json()
        if body.get("status") == status:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path} never became {status}: {body}")


async def _availability(api: httpx.AsyncClient, tenant: TenantKeys, sku: str) -> dict[str, Any]:
    response = await api.get(
        f"/v1/inventory/availability?sku={sku}", headers=tenant.auth(Role.VIEWER)
    )
    return {
        row["warehouse"]: (row["on_hand"], row["available"], row["in_transit"], row["incoming"])
        for row in response.json()["items"]
    }


async def _post(
    api: httpx.AsyncClient, tenant: TenantKeys, path: str, body: Any = None, role: Role = Role.WMS
) -> httpx.Response:
    return await api.post(path, json=body, headers={**tenant.auth(role), **key()})


async def _ledger(api: httpx.AsyncClient, tenant: TenantKeys, number: str) -> list[Any]:
    response = await api.get(
        f"/v1/inventory/movements?reference={number}", headers=tenant.auth(Role.VIEWER)
    )
    rows = sorted(response.json()["items"], key=lambda m: m["id"])
    return [(m["type"], m["warehouse"], m["quantity"], m.get("reason")) for m in rows]


async def _ship_order(api: httpx.AsyncClient, tenant: TenantKeys, number: str) -> None:
    wms = tenant.auth(Role.WMS)
    queue = (await api.get(f"/v1/fulfillment-requests?order_number={number}", headers=wms)).json()[
        "items"
    ]
    [request] = [r for r in queue if r["status"] == "requested"]
    rid, lines = (
        request["id"],
        [{"line_id": x["line_id"], "quantity": x["quantity"]} for x in request["lines"]],
    )
    assert request["warehouse"] == "WH2"
    steps = [
        ("accept", None),
        ("pick", {"lines": lines}),
        ("pack", {"packages": [{"package_number": "P1", "lines": lines}]}),
        ("ship", {"carrier": "DHL", "tracking_numbers": ["T1"]}),
    ]
    for step, body in steps:
        response = await api.post(f"/v1/fulfillment-requests/{rid}/{step}", json=body, headers=wms)
        assert response.status_code == 200, response.text


async def test_a_transfer_with_a_discrepancy_wakes_a_backorder_at_the_destination(
    api: httpx.AsyncClient,
    depot: TenantKeys,
    other_tenant: TenantKeys,
    sessions: async_sessionmaker[AsyncSession],
    dev_env: WorkflowEnvironment,
) -> None:
    tenant_id = await _tenant_id(sessions, depot)
    assert (await receive(api, depot, "BACK", 10)).status_code == 201
    number = unique("TR")
    body = {
        "transfer_number": number,
        "from_warehouse": "WH1",
        "to_warehouse": "WH2",
        "lines": [{"sku": "BACK", "quantity": 10}],
    }
    created = await _post(api, depot, "/v1/transfers", body)
    assert created.status_code == 201, created.text
    assert created.json()["workflow_id"] == transfer_workflow_id(tenant_id, number)
    assert (await _post(api, depot, "/v1/transfers", body)).status_code == 200
    nine = {**body, "lines": [{"sku": "BACK", "quantity": 9}]}
    other = await _post(api, depot, "/v1/transfers", nine)
    assert other.status_code == 409 and other.headers["content-type"] == PROBLEM
    path = f"/v1/transfers/{number}"
    await _until(api, depot, path, "reserved")
    assert (await _availability(api, depot, "BACK"))["WH1"] == (10, 0, 0, 0)

    # Every unit is promised to the transfer: an order can only wait for it.
    order: dict[str, Any] = {
        "order_number": unique("SO"),
        "customer_id": "C-1",
        "currency": "EUR",
        "lines": [{"line_id": "1", "sku": "BACK", "quantity": 4}],
    }
    assert (await _post(api, depot, "/v1/orders", order, Role.OMS)).status_code == 201
    order_path = f"/v1/orders/{order['order_number']}"
    await _until(api, depot, order_path, "backordered")

    early = await _post(
        api, depot, f"{path}/receive", {"location": "A1", "lines": [{"sku": "BACK", "received": 1}]}
    )
    assert early.status_code == 409 and early.headers["content-type"] == PROBLEM
    shipped = await _post(api, depot, f"{path}/ship", {"carrier": "DHL", "tracking_number": "T-9"})
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == "in_transit"
    availability = await _availability(api, depot, "BACK")
    assert availability["WH1"] == (0, 0, 10, 0)
    assert availability["WH2"] == (0, 0, 0, 10)
    assert await _ledger(api, depot, number) == [("transfer_out", "WH1", 10, None)]

    # Wrong steps: each a problem, nothing recorded, no history written.
    before = await snapshot(api, depot)
    handle = dev_env.client.get_workflow_handle(transfer_workflow_id(tenant_id, number))
    events = await quiet_history(handle)
    receipt = f"{path}/receive"
    wrong: list[tuple[str, Any, int]] = [
        (f"{path}/ship", {"carrier": "DHL"}, 409),  # shipped twice
        (f"{path}/cancel", None, 409),  # after shipping
        (receipt, {"location": "A1", "lines": [{"sku": "BACK", "received": 11}]}, 409),
        (receipt, {"location": "A1", "lines": [{"sku": "WIDGET", "received": 1}]}, 422),
        (receipt, {"location": "A1", "lines": [{"sku": "NOPE", "received": 1}]}, 404),
        (receipt, {"location": "A1", "lines": [{"sku": "BACK", "received": 0}]}, 422),
        (receipt, {"location": "A1", "lines": [{"sku": "BACK", "received": -1}]}, 422),
        (receipt, {"location": "A1", "lines": []}, 422),
        (receipt, {"lines": [{"sku": "BACK", "received": 1}]}, 422),
        (f"{path}/ship", {"carrier": ""}, 422),
    ]
    for url, wrong_body, status in wrong:
        response = await _post(api, depot, url, wrong_body)
        assert response.status_code == status, (url, wrong_body, response.text)
        assert response.headers["content-type"] == PROBLEM
    assert len((await handle.fetch_history()).events) == events
    foreign = await api.get(path, headers=other_tenant.auth(Role.VIEWER))
    assert foreign.status_code == 404
    one = {"location": "A1", "lines": [{"sku": "BACK", "received": 1}]}
    foreign = await _post(api, other_tenant, receipt, one)
    assert foreign.status_code == 404
    assert await snapshot(api, depot) == before

    part = await _post(
        api, depot, receipt, {"location": "A1", "lines": [{"sku": "BACK", "received": 6}]}
    )
    assert part.status_code == 200, part.text
    assert part.json()["status"] == "partially_received"
    # The receipt woke the order: it takes its 4 from the 6 now at WH2.
    allocated = await _until(api, depot, order_path, "allocated")
    assert allocated["lines"][0]["allocated"] == 4
    availability = await _availability(api, depot, "BACK")
    assert availability["WH1"] == (0, 0, 4, 0)
    assert availability["WH2"] == (6, 2, 0, 4)

    last = await _post(
        api,
        depot,
        receipt,
        {"location": "A2", "lines": [{"sku": "BACK", "received": 3, "reason": "one crushed"}]},
    )
    assert last.status_code == 200, last.text
    final = last.json()
    assert final["status"] == "completed"
    assert final["stock"] == [
        {
            "sku": "BACK",
            "lot": None,
            "shipped": 10,
            "received": 9,
            "written_off": 1,
            "outstanding": 0,
        }
    ]
    availability = await _availability(api, depot, "BACK")
    assert availability["WH1"] == (0, 0, 0, 0)
    assert availability["WH2"] == (9, 5, 0, 0)
    assert await _ledger(api, depot, number) == [
        ("transfer_out", "WH1", 10, None),
        ("transfer_in", "WH2", 6, None),
        ("transfer_in", "WH2", 3, None),
        ("adjust", "WH2", 1, "transfer discrepancy: one crushed"),
    ]

    await _ship_order(api, depot, order["order_number"])
    await _until(api, depot, order_path, "shipped")
    assert (await _availability(api, depot, "BACK"))["WH2"] == (5, 5, 0, 0)
    listed = (
        await api.get(
            "/v1/transfers?status=completed&to_warehouse=WH2", headers=depot.auth(Role.VIEWER)
        )
    ).json()["items"]
    assert [t["transfer_number"] for t in listed] == [number]
    assert listed[0]["requested_at"] is not None  # lists say when each was requested
    await _books_are_right(sessions, tenant_id)


async def test_cancel_before_shipping_releases_the_stock(
    api: httpx.AsyncClient, depot: TenantKeys, sessions: async_sessionmaker[AsyncSession]
) -> None:
    assert (await receive(api, depot, "FABRIC", 5)).status_code == 201
    number = unique("TR")
    body = {
        "transfer_number": number,
        "from_warehouse": "WH1",
        "to_warehouse": "WH2",
        "lines": [{"sku": "FABRIC", "quantity": 2.5}],
    }
    assert (await _post(api, depot, "/v1/transfers", body, Role.VIEWER)).status_code == 403
    assert (await _post(api, depot, "/v1/transfers", body)).status_code == 201
    path = f"/v1/transfers/{number}"
    reserved = await _until(api, depot, path, "reserved")
    assert reserved["lines"] == [{"sku": "FABRIC", "lot": None, "quantity": 2.5, "reserved": 2.5}]
    assert (await _availability(api, depot, "FABRIC"))["WH1"] == (5, 2.5, 0, 0)
    canceled = await _post(api, depot, f"{path}/cancel", {"reason": "not needed"})
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "canceled"
    assert (await _availability(api, depot, "FABRIC"))["WH1"] == (5, 5, 0, 0)
    for step, step_body in (("cancel", None), ("ship", {"carrier": "DHL"})):
        response = await _post(api, depot, f"{path}/{step}", step_body)
        assert response.status_code == 409, response.text
    listed = (
        await api.get("/v1/transfers?status=canceled", headers=depot.auth(Role.VIEWER))
    ).json()["items"]
    assert number in [t["transfer_number"] for t in listed]
    await _books_are_right(sessions, await _tenant_id(sessions, depot))


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"lines": [{"sku": "NOPE", "quantity": 1}]}, 404, "lines.0.sku"),
        ({"lines": [{"sku": "FABRIC", "quantity": 0.1}]}, 422, "lines.0.quantity"),
        ({"lines": [{"sku": "WIDGET", "quantity": 0}]}, 422, None),
        ({"lines": [{"sku": "MILK", "quantity": 1, "lot": "NOPE"}]}, 404, "lines.0.lot"),
        ({"to_warehouse": "WH1"}, 422, "to_warehouse"),
        ({"from_warehouse": "WH9"}, 404, "from_warehouse"),
        ({"lines": []}, 422, None),
        (
            {"lines": [{"sku": "WIDGET", "quantity": 1}, {"sku": "WIDGET", "quantity": 2}]},
            422,
            None,
        ),
        ({"extra": 1}, 422, None),
    ],
)
async def test_bad_transfers_are_refused_and_start_nothing(
    api: httpx.AsyncClient,
    depot: TenantKeys,
    change: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    body = {
        "transfer_number": unique("TR"),
        "from_warehouse": "WH1",
        "to_warehouse": "WH2",
        "lines": [{"sku": "WIDGET", "quantity": 1}],
        **change,
    }
    response = await _post(api, depot, "/v1/transfers", body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    if field:
        assert response.json()["field"] == field
    missing = await api.get(
        f"/v1/transfers/{body['transfer_number']}", headers=depot.auth(Role.VIEWER)
    )
    assert missing.status_code == 404


async def test_alerts_are_listed_and_resolved(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenant_id = await _tenant_id(sessions, tenant)
    alert = NewAlert(
        tenant_id=tenant_id,
        key="transfer_in_transit:TR-1",
        kind="transfer_in_transit",
        reference_type="transfer",
        reference_id="TR-1",
        message="late",
    )
    alert_id = await raise_alert(sessions, alert)
    assert await raise_alert(sessions, alert) == alert_id  # once per key
    viewer = tenant.auth(Role.VIEWER)
    listed = (await api.get("/v1/alerts", headers=viewer)).json()["items"]
    assert [(a["id"], a["kind"], a["reference_id"]) for a in listed] == [
        (alert_id, "transfer_in_transit", "TR-1")
    ]
    path = f"/v1/alerts/{alert_id}/resolve"
    viewer_try = await _post(api, tenant, path, {"resolution": "found"}, Role.VIEWER)
    assert viewer_try.status_code == 403
    resolved = await _post(api, tenant, path, {"resolution": "found it"})
    assert resolved.status_code == 200 and resolved.json()["resolution"] == "found it"
    assert (await _post(api, tenant, path, {"resolution": "again"})).status_code == 409
    assert (await api.get("/v1/alerts", headers=viewer)).json()["items"] == []
    everything = (await api.get("/v1/alerts?status=all", headers=viewer)).json()["items"]
    assert [a["id"] for a in everything] == [alert_id]


async def test_serial_tracked_units_travel_by_serial(
    api: httpx.AsyncClient, depot: TenantKeys, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenant_id = await _tenant_id(sessions, depot)
    serials = ["SN-1", "SN-2", "SN-3"]
    assert (await receive(api, depot, "PHONE", 3, serials=serials)).status_code == 201
    number = unique("TR")
    body = {
        "transfer_number": number,
        "from_warehouse": "WH1",
        "to_warehouse": "WH2",
        "lines": [{"sku": "PHONE", "quantity": 3}],
    }
    assert (await _post(api, depot, "/v1/transfers", body)).status_code == 201
    path = f"/v1/transfers/{number}"
    await _until(api, depot, path, "reserved")
    assert (await _post(api, depot, f"{path}/ship", {"carrier": "DHL"})).status_code == 200

    before = await snapshot(api, depot)
    for lines in (
        [{"sku": "PHONE", "received": 1}],  # which one?
        [{"sku": "PHONE", "received": 1, "serials": ["SN-9"]}],  # not a serial of ours
        [{"sku": "PHONE", "received": 2, "serials": ["SN-1"]}],  # count does not match
    ):
        refused = await _post(api, depot, f"{path}/receive", {"location": "A1", "lines": lines})
        assert refused.status_code in (404, 422), refused.text
        assert refused.headers["content-type"] == PROBLEM
    assert await snapshot(api, depot) == before

    first = {"location": "A1", "lines": [{"sku": "PHONE", "received": 1, "serials": ["SN-2"]}]}
    assert (await _post(api, depot, f"{path}/receive", first)).status_code == 200
    again = await _post(api, depot, f"{path}/receive", first)  # SN-2 is no longer in transit
    assert again.status_code == 422
    last = {
        "location": "A1",
        "lines": [{"sku": "PHONE", "received": 1, "serials": ["SN-1"], "reason": "one lost"}],
    }
    done = await _post(api, depot, f"{path}/receive", last)
    assert done.status_code == 200 and done.json()["status"] == "completed", done.text

    balances = (
        await api.get("/v1/inventory/balances?sku=PHONE", headers=depot.auth(Role.VIEWER))
    ).json()["items"]
    where = sorted((b["warehouse"], p["serial"]) for b in balances for p in b["locations"])
    assert where == [("WH2", "SN-1"), ("WH2", "SN-2")]  # SN-3 was written off on the way
    assert await _availability(api, depot, "PHONE") == {"WH1": (0, 0, 0, 0), "WH2": (2, 2, 0, 0)}
    await _books_are_right(sessions, tenant_id)
    async with sessions() as session, session.begin():  # reconcile follows each serial
        await session.execute(
            text(
                "UPDATE transfer_serials SET status = 'in_transit' WHERE tenant_id = :t"
                " AND status = 'written_off'"
            ),
            {"t": tenant_id},
        )
        found = {v.what for v in await find_violations(session, tenant_id)}
        assert "serials in transit differ from what the transfer has outstanding" in found
        await session.rollback()
