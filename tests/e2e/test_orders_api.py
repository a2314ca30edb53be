"""An order's life through the API, on the dev server with the project's worker."""

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.roles import Role
from tests.conftest import TenantKeys, unique
from tests.e2e.inventory_setup import build_catalogue, receive
from workflows import search_attributes

PROBLEM = "application/problem+json"


async def _until(
    api: httpx.AsyncClient, tenant: TenantKeys, number: str, status: str, seconds: float = 20
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(int(seconds / 0.1)):
        body = (await api.get(f"/v1/orders/{number}", headers=tenant.auth(Role.VIEWER))).json()
        if body.get("status") == status:
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"order {number} never became {status}: {body}")


ADDRESS = {
    "name": "Ada Lovelace",
    "lines": ["Invalidenstr. 116", "Hinterhaus"],
    "city": "Berlin",
    "postal_code": "10115",
    "country": "DE",
    "phone": "+49 30 1234567",
}


def _order(lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "order_number": unique("SO"),
        "customer_id": "C-7",
        "currency": "EUR",
        "lines": lines,
        **extra,
    }


@pytest.fixture
async def shop(api: httpx.AsyncClient, tenant: TenantKeys, dev_worker: Worker) -> TenantKeys:
    await build_catalogue(api, tenant)
    assert (await receive(api, tenant, "WIDGET", 10)).status_code == 201
    assert (await receive(api, tenant, "FABRIC", 5)).status_code == 201
    return tenant


async def test_an_order_lives_through_the_api(api: httpx.AsyncClient, shop: TenantKeys) -> None:
    oms, wms = shop.auth(Role.OMS), shop.auth(Role.WMS)
    widgets = {"line_id": "1", "sku": "WIDGET", "quantity": 2, "unit_price": 9.5}
    fabric = {"line_id": "2", "sku": "FABRIC", "quantity": 1.1, "unit_price": 12}  # 1.25 yd
    body = _order(
        [widgets, fabric],
        ship_to=ADDRESS,
        shipping_method="express",
        requested_ship_at="2031-03-01T09:00:00+01:00",
        requested_delivery_at="2031-03-03T18:00:00Z",
    )
    created = await api.post("/v1/orders", json=body, headers=oms)
    assert created.status_code == 201, created.text
    number = created.json()["order_number"]
    again = await api.post("/v1/orders", json=body, headers=oms)
    assert again.status_code == 200
    other = await api.post("/v1/orders", json={**body, "customer_id": "C-8"}, headers=oms)
    assert other.status_code == 409

    order = await _until(api, shop, number, "allocated")
    assert [(x["ordered"], x["allocated"]) for x in order["lines"]] == [(2, 2), (1.25, 1.25)]
    queue = (
        await api.get("/v1/fulfillment-requests?warehouse=WH1&status=requested", headers=wms)
    ).json()["items"]
    [request] = [r for r in queue if r["order_number"] == number]
    rid = request["id"]
    # what the warehouse needs to ship it, on the list and on the one request
    one = (await api.get(f"/v1/fulfillment-requests/{rid}", headers=wms)).json()
    for shown in (request, one, order):
        assert shown["ship_to"] == {**ADDRESS, "company": None, "region": None, "email": None}
        assert shown["shipping_method"] == "express"
        assert shown["requested_ship_at"] == "2031-03-01T08:00:00Z"
        assert shown["requested_delivery_at"] == "2031-03-03T18:00:00Z"
        assert (shown["customer_id"], shown["priority"]) == ("C-7", 100)
    assert (
        await api.post(f"/v1/fulfillment-requests/{rid}/accept", headers=wms)
    ).status_code == 200
    over = await api.post(
        f"/v1/fulfillment-requests/{rid}/pick",
        headers=wms,
        json={"lines": [{"line_id": "1", "quantity": 3}]},
    )
    assert over.status_code == 409 and over.headers["content-type"] == PROBLEM
    picked = await api.post(
        f"/v1/fulfillment-requests/{rid}/pick",
        headers=wms,
        json={"lines": [{"line_id": "1", "quantity": 2}, {"line_id": "2", "quantity": 1.25}]},
    )
    assert picked.status_code == 200, picked.text
    packed = await api.post(
        f"/v1/fulfillment-requests/{rid}/pack",
        headers=wms,
        json={
            "packages": [
                {
                    "package_number": "PKG-1",
                    "weight": {"value": 2.1, "unit": "kg"},
                    "dimensions": {"length": 40, "width": 30, "height": 12.5, "unit": "cm"},
                    "lines": [{"line_id": "1", "quantity": 2}, {"line_id": "2", "quantity": 1.25}],
                }
            ]
        },
    )
    assert packed.status_code == 200, packed.text
    shipped = await api.post(
        f"/v1/fulfillment-requests/{rid}/ship",
        headers=wms,
        json={
            "carrier": "DHL",
            "service_level": "express",
            "packages": [
                {
                    "package_number": "PKG-1",
                    "tracking_number": "JJD0099",
                    "label_url": "https://labels.example/JJD0099.pdf",
                }
            ],
            "tracking_numbers": ["00340434"],
        },
    )
    assert shipped.status_code == 200, shipped.text
    final = await _until(api, shop, number, "shipped")
    [shipment] = final["shipments"]
    assert shipment["tracking_numbers"] == ["JJD0099", "00340434"]  # packages' first
    [package] = shipment["packages"]
    assert package["weight"] == {"value": 2.1, "unit": "kg"}
    assert package["dimensions"] == {"length": 40, "width": 30, "height": 12.5, "unit": "cm"}
    assert package["tracking_number"] == "JJD0099"
    assert package["label_url"] == "https://labels.example/JJD0099.pdf"
    assert package["weight_text"] is None
    one = (await api.get(f"/v1/fulfillment-requests/{rid}", headers=wms)).json()
    assert one["packages"] == [package]
    assert [x["shipped"] for x in final["lines"]] == [2, 1.25]
    late = await api.post(f"/v1/orders/{number}/cancel", json={"reason": "x"}, headers=oms)
    assert late.status_code == 409
    # the order number stays taken after the order closed: same body 200, other 409
    assert (await api.post("/v1/orders", json=body, headers=oms)).status_code == 200
    reuse = await api.post("/v1/orders", json={**body, "customer_id": "C-9"}, headers=oms)
    assert reuse.status_code == 409
    listed = (await api.get("/v1/orders?status=shipped", headers=oms)).json()["items"]
    assert number in {o["order_number"] for o in listed}
    availability = (await api.get("/v1/inventory/availability?sku=WIDGET", headers=wms)).json()
    assert availability["items"][0]["on_hand"] == 8


async def test_a_backordered_order_wakes_when_a_receipt_arrives(
    api: httpx.AsyncClient, shop: TenantKeys
) -> None:
    oms = shop.auth(Role.OMS)
    # FABRIC denies backorders by default; make an item that allows them.
    item = {"sku": "BACK", "name": "backorderable", "backorder_policy": "allow"}
    assert (await api.post("/v1/items", json=item, headers=shop.auth(Role.WMS))).status_code == 201
    body = _order([{"line_id": "1", "sku": "BACK", "quantity": 3}])
    number = (await api.post("/v1/orders", json=body, headers=oms)).json()["order_number"]
    waiting = await _until(api, shop, number, "backordered")
    assert waiting["lines"][0]["backordered"] == 3
    assert (await receive(api, shop, "BACK", 5)).status_code == 201
    allocated = await _until(api, shop, number, "allocated")
    assert allocated["lines"][0]["allocated"] == 3


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"lines": [{"line_id": "1", "sku": "NOPE", "quantity": 1}]}, 404, "lines.0.sku"),
        ({"lines": [{"line_id": "1", "sku": "WIDGET", "quantity": 0}]}, 422, None),
        ({"lines": [{"line_id": "1", "sku": "FABRIC", "quantity": 0.5}]}, 422, "lines.0.quantity"),
        ({"currency": "euro"}, 422, None),
        ({"preferred_warehouse": "WH9"}, 404, "preferred_warehouse"),
        (
            {
                "lines": [
                    {"line_id": "1", "sku": "WIDGET", "quantity": 1},
                    {"line_id": "1", "sku": "WIDGET", "quantity": 1},
                ]
            },
            422,
            None,
        ),
    ],
)
async def test_bad_orders_are_refused_and_start_nothing(
    api: httpx.AsyncClient, shop: TenantKeys, change: dict[str, Any], status: int, field: str | None
) -> None:
    body = {**_order([{"line_id": "1", "sku": "WIDGET", "quantity": 1}]), **change}
    response = await api.post("/v1/orders", json=body, headers=shop.auth(Role.OMS))
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    if field:
        assert response.json()["field"] == field
    missing = await api.get(f"/v1/orders/{body['order_number']}", headers=shop.auth(Role.OMS))
    assert missing.status_code == 404


async def test_roles_and_tenants_on_orders(
    api: httpx.AsyncClient, shop: TenantKeys, other_tenant: TenantKeys
) -> None:
    body = _order([{"line_id": "1", "sku": "WIDGET", "quantity": 1}])
    for role in (Role.VIEWER, Role.WMS):
        assert (await api.post("/v1/orders", json=body, headers=shop.auth(role))).status_code == 403
    number = (await api.post("/v1/orders", json=body, headers=shop.auth(Role.OMS))).json()[
        "order_number"
    ]
    await _until(api, shop, number, "allocated")
    stranger = other_tenant.auth(Role.ADMIN)
    assert (await api.get(f"/v1/orders/{number}", headers=stranger)).status_code == 404
    cancel = await api.post(f"/v1/orders/{number}/cancel", json={"reason": "x"}, headers=stranger)
    assert cancel.status_code == 404
    queue = (await api.get("/v1/fulfillment-requests", headers=stranger)).json()["items"]
    assert queue == []
    canceled = await api.post(
        f"/v1/orders/{number}/cancel", json={"reason": "changed mind"}, headers=shop.auth(Role.OMS)
    )
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"


async def test_two_tenants_may_use_the_same_order_number(
    api: httpx.AsyncClient, shop: TenantKeys, other_tenant: TenantKeys
) -> None:
    """Order numbers (and so request ids) are the tenant's own: the same number in two
    tenants gives two orders, each warehouse sees only its own request."""
    await build_catalogue(api, other_tenant)
    assert (await receive(api, other_tenant, "WIDGET", 10)).status_code == 201
    mine = _order([{"line_id": "1", "sku": "WIDGET", "quantity": 1}])
    theirs = {**mine, "lines": [{"line_id": "1", "sku": "WIDGET", "quantity": 3}]}
    number = mine["order_number"]
    for tenant, body in ((shop, mine), (other_tenant, theirs)):
        created = await api.post("/v1/orders", json=body, headers=tenant.auth(Role.OMS))
        assert created.status_code == 201, created.text
        await _until(api, tenant, number, "allocated")
    for tenant, quantity in ((shop, 1), (other_tenant, 3)):
        wms = tenant.auth(Role.WMS)
        queue = (
            await api.get(f"/v1/fulfillment-requests?order_number={number}", headers=wms)
        ).json()["items"]
        assert [[x["quantity"] for x in r["lines"]] for r in queue] == [[quantity]]
        rid = queue[0]["id"]
        one = await api.get(f"/v1/fulfillment-requests/{rid}", headers=wms)
        assert one.status_code == 200 and one.json()["lines"][0]["quantity"] == quantity
    await _fulfil_all(api, other_tenant, number)
    await _until(api, other_tenant, number, "shipped")
    # the first tenant's request is untouched by the other's confirmations
    wms = shop.auth(Role.WMS)
    queue = (await api.get(f"/v1/fulfillment-requests?order_number={number}", headers=wms)).json()[
        "items"
    ]
    assert [(r["status"], [x["quantity"] for x in r["lines"]]) for r in queue] == [
        ("requested", [1])
    ]


async def _fulfil_all(api: httpx.AsyncClient, tenant: TenantKeys, number: str) -> None:
    """The warehouse confirms every open request of an order in full."""
    wms = tenant.auth(Role.WMS)
    order = (await api.get(f"/v1/orders/{number}", headers=wms)).json()
    for request in order["fulfillment_requests"]:
        if request["status"] != "requested":
            continue
        rid = request["id"]
        assert (await api.post(f"/v1/fulfillment-requests/{rid}/accept", headers=wms)).is_success
        picks = [{"line_id": x["line_id"], "quantity": x["quantity"]} for x in request["lines"]]
        picked = await api.post(
            f"/v1/fulfillment-requests/{rid}/pick", headers=wms, json={"lines": picks}
        )
        assert picked.is_success, picked.text
        package = {"package_number": "P1", "lines": picks}
        packed = await api.post(
            f"/v1/fulfillment-requests/{rid}/pack", headers=wms, json={"packages": [package]}
        )
        assert packed.is_success, packed.text
        shipped = await api.post(
            f"/v1/fulfillment-requests/{rid}/ship", headers=wms, json={"carrier": "UPS"}
        )
        assert shipped.is_success, shipped.text


async def test_lot_tracked_fefo_items_split_across_two_warehouses(
    api: httpx.AsyncClient, shop: TenantKeys
) -> None:
    for warehouse, lot, days, quantity in (
        ("WH1", "LATE", 60, 5),
        ("WH1", "SOON", 5, 2),
        ("WH2", "MID", 30, 4),
    ):
        expiry = str(date.today() + timedelta(days=days))
        response = await receive(
            api, shop, "MILK", quantity, lot=lot, expires_at=expiry, warehouse=warehouse
        )
        assert response.status_code == 201, response.text
    body = _order([{"line_id": "1", "sku": "MILK", "quantity": 10}], allow_split=True)
    created = await api.post("/v1/orders", json=body, headers=shop.auth(Role.OMS))
    number = created.json()["order_number"]
    order = await _until(api, shop, number, "allocated")
    requests = {r["warehouse"]: r for r in order["fulfillment_requests"]}
    assert set(requests) == {"WH1", "WH2"}
    wh1 = requests["WH1"]["lines"][0]["allocations"]
    assert [(a["lot"], a["quantity"]) for a in wh1] == [("SOON", 2), ("LATE", 5)]  # FEFO
    assert [(a["lot"], a["quantity"]) for a in requests["WH2"]["lines"][0]["allocations"]] == [
        ("MID", 3)
    ]
    await _fulfil_all(api, shop, number)
    final = await _until(api, shop, number, "shipped")
    assert len(final["shipments"]) == 2
    milk = (await api.get("/v1/inventory/balances?sku=MILK", headers=shop.auth(Role.VIEWER))).json()
    assert {(b["warehouse"], b["on_hand"], b["allocated"]) for b in milk["items"]} == {
        ("WH1", 0, 0),
        ("WH2", 1, 0),
    }


async def test_fifty_concurrent_orders_for_twenty_units(
    api: httpx.AsyncClient, shop: TenantKeys
) -> None:
    """WIDGET denies backorders: exactly 20 orders get a unit, 30 are rejected."""
    item = {"sku": "RARE", "name": "limited edition"}
    assert (await api.post("/v1/items", json=item, headers=shop.auth(Role.WMS))).status_code == 201
    assert (await receive(api, shop, "RARE", 20)).status_code == 201
    oms = shop.auth(Role.OMS)
    bodies = [_order([{"line_id": "1", "sku": "RARE", "quantity": 1}]) for _ in range(50)]
    responses = await asyncio.gather(*(api.post("/v1/orders", json=b, headers=oms) for b in bodies))
    assert all(r.status_code == 201 for r in responses)

    async def final_status(number: str) -> str:
        for _ in range(600):
            status = (await api.get(f"/v1/orders/{number}", headers=oms)).json()["status"]
            if status in ("allocated", "rejected"):
                return str(status)
            await asyncio.sleep(0.1)
        raise AssertionError(f"{number} stuck")

    statuses = await asyncio.gather(*(final_status(b["order_number"]) for b in bodies))
    assert statuses.count("allocated") == 20
    assert statuses.count("rejected") == 30
    level = (await api.get("/v1/inventory/availability?sku=RARE", headers=oms)).json()["items"][0]
    assert (level["on_hand"], level["reserved"], level["allocated"]) == (20, 0, 20)


async def test_operators_find_orders_by_search_attributes(
    api: httpx.AsyncClient, shop: TenantKeys, dev_env: WorkflowEnvironment
) -> None:
    body = _order([{"line_id": "1", "sku": "WIDGET", "quantity": 1}], customer_id="C-SA")
    created = await api.post("/v1/orders", json=body, headers=shop.auth(Role.OMS))
    assert created.status_code == 201, created.text
    handle = dev_env.client.get_workflow_handle(created.json()["workflow_id"])
    # set by the API at start: filterable before the worker has run the order at all
    started = (await handle.describe()).typed_search_attributes
    assert started.get(search_attributes.ORDER_NUMBER) == body["order_number"]
    assert started.get(search_attributes.CUSTOMER_ID) == "C-SA"
    assert started.get(search_attributes.TENANT_ID) is not None
    await _until(api, shop, body["order_number"], "allocated")
    await _fulfil_all(api, shop, body["order_number"])
    await _until(api, shop, body["order_number"], "shipped")
    query = f"OrderNumber = '{body['order_number']}' AND OrderStatus = 'shipped'"
    for _ in range(100):  # visibility is eventually consistent
        found = [w.id async for w in dev_env.client.list_workflows(query)]
        if found:
            break
        await asyncio.sleep(0.1)
    assert found == [handle.id]
    # one upsert per status the order went through, never a repeat of the same values
    statuses = [
        event.upsert_workflow_search_attributes_event_attributes.search_attributes
        async for event in handle.fetch_history_events()
        if event.HasField("upsert_workflow_search_attributes_event_attributes")
    ]
    assert len(statuses) == len({s.SerializeToString() for s in statuses}) >= 3


async def test_an_item_created_after_an_unknown_sku_was_refused_can_be_ordered(
    api: httpx.AsyncClient, shop: TenantKeys
) -> None:
    """Units of measure are remembered per process; an unknown SKU is not."""
    body = _order([{"line_id": "1", "sku": "LATER", "quantity": 1}])
    refused = await api.post("/v1/orders", json=body, headers=shop.auth(Role.OMS))
    assert refused.status_code == 404 and refused.json()["field"] == "lines.0.sku"
    item = {"sku": "LATER", "name": "created later", "backorder_policy": "allow"}
    assert (await api.post("/v1/items", json=item, headers=shop.auth(Role.WMS))).status_code == 201
    placed = await api.post("/v1/orders", json=body, headers=shop.auth(Role.OMS))
    assert placed.status_code == 201, placed.text
    await _until(api, shop, body["order_number"], "backordered")


async def test_a_step_repeated_with_its_idempotency_key_answers_the_first_outcome_once(
    api: httpx.AsyncClient, shop: TenantKeys
) -> None:
    oms = shop.auth(Role.OMS)
    widgets = {"line_id": "1", "sku": "WIDGET", "quantity": 1, "unit_price": 9.5}
    number = (await api.post("/v1/orders", json=_order([widgets]), headers=oms)).json()[
        "order_number"
    ]
    hold = {"code": "fraud", "reason": "check"}
    keyed = {**oms, "Idempotency-Key": unique("hold")}
    first = await api.post(f"/v1/orders/{number}/holds", json=hold, headers=keyed)
    again = await api.post(f"/v1/orders/{number}/holds", json=hold, headers=keyed)
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert first.json() == again.json()
    order = (await api.get(f"/v1/orders/{number}", headers=oms)).json()
    assert len(order["holds"]) == 1  # the repeat (after a 504, say) placed no second hold
    other = await api.post(f"/v1/orders/{number}/holds", json=hold, headers=oms)
    assert other.json()["id"] != first.json()["id"]  # without the key: a new hold
