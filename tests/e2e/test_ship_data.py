"""What the warehouse needs to ship, through the API: a validated address and the
order's shipping wishes on the queue (sorted and filtered by them), packages as
measured data; bad input is a 422 naming the field that changes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from temporalio.worker import Worker

from domain.roles import Role
from tests.conftest import TenantKeys
from tests.e2e.inventory_setup import build_catalogue, receive
from tests.e2e.test_orders_api import ADDRESS, _order, _until

PROBLEM = "application/problem+json"
WIDGET = {"line_id": "1", "sku": "WIDGET", "quantity": 1}


@pytest.fixture
async def shop(api: httpx.AsyncClient, tenant: TenantKeys, dev_worker: Worker) -> TenantKeys:
    await build_catalogue(api, tenant)
    assert (await receive(api, tenant, "WIDGET", 10)).status_code == 201
    return tenant


def _fields(response: httpx.Response) -> set[str]:
    assert response.headers["content-type"] == PROBLEM, response.text
    return {e["field"] for e in response.json()["errors"]}


async def test_a_ship_to_without_a_known_country_is_a_422_naming_it_and_starts_nothing(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    oms = tenant.auth(Role.OMS)
    no_country = {k: v for k, v in ADDRESS.items() if k != "country"}
    for address in (no_country, {**ADDRESS, "country": "XX"}, {**ADDRESS, "country": "de"}):
        body = _order([WIDGET], ship_to=address)
        refused = await api.post("/v1/orders", json=body, headers=oms)
        assert refused.status_code == 422, refused.text
        assert _fields(refused) == {"body.ship_to.country"}
        missing = await api.get(f"/v1/orders/{body['order_number']}", headers=oms)
        assert missing.status_code == 404
    unknown = await api.post(
        "/v1/orders", json=_order([WIDGET], ship_to={**ADDRESS, "country": "XX"}), headers=oms
    )
    assert "XX is not an ISO 3166-1 alpha-2 country code" in unknown.text
    four_lines = {**ADDRESS, "lines": ["a", "b", "c", "d"]}
    too_long = await api.post("/v1/orders", json=_order([WIDGET], ship_to=four_lines), headers=oms)
    assert _fields(too_long) == {"body.ship_to.lines"}
    early = _order(
        [WIDGET],
        requested_ship_at="2031-03-02T00:00:00Z",
        requested_delivery_at="2031-03-01T00:00:00Z",
    )
    backwards = await api.post("/v1/orders", json=early, headers=oms)
    assert _fields(backwards) == {"body.requested_delivery_at"}
    assert (await api.get("/v1/orders", headers=oms)).json()["items"] == []


async def _picked_request(api: httpx.AsyncClient, tenant: TenantKeys) -> tuple[str, str]:
    """An order whose one request is picked: (order number, request id)."""
    body = _order([{**WIDGET, "quantity": 2}], ship_to=ADDRESS)
    assert (await api.post("/v1/orders", json=body, headers=tenant.auth(Role.OMS))).is_success
    order = await _until(api, tenant, body["order_number"], "allocated")
    [request] = order["fulfillment_requests"]
    wms, rid = tenant.auth(Role.WMS), request["id"]
    assert (await api.post(f"/v1/fulfillment-requests/{rid}/accept", headers=wms)).is_success
    pick = {"lines": [{"line_id": "1", "quantity": 2}]}
    assert (
        await api.post(f"/v1/fulfillment-requests/{rid}/pick", json=pick, headers=wms)
    ).is_success
    return body["order_number"], rid


async def test_bad_package_weights_are_a_422_naming_the_field_and_change_nothing(
    api: httpx.AsyncClient, shop: TenantKeys
) -> None:
    number, rid = await _picked_request(api, shop)
    wms = shop.auth(Role.WMS)
    before = (await api.get(f"/v1/orders/{number}", headers=wms)).json()
    queued = (await api.get(f"/v1/fulfillment-requests/{rid}", headers=wms)).json()
    lines = [{"line_id": "1", "quantity": 2}]
    bad: list[tuple[Any, str]] = [
        ({"value": -1, "unit": "kg"}, "body.packages.0.weight.value"),
        ({"value": 0, "unit": "kg"}, "body.packages.0.weight.value"),
        ({"value": "heavy", "unit": "kg"}, "body.packages.0.weight.value"),
        ({"value": 2, "unit": "stone"}, "body.packages.0.weight.unit"),
        ({"value": 2}, "body.packages.0.weight.unit"),
        ("2 kg", "body.packages.0.weight"),  # the free text of before: refused, says why
    ]
    for weight, field in bad:
        package = {"package_number": "P1", "weight": weight, "lines": lines}
        refused = await api.post(
            f"/v1/fulfillment-requests/{rid}/pack", json={"packages": [package]}, headers=wms
        )
        assert refused.status_code == 422, (weight, refused.text)
        assert _fields(refused) == {field}, weight
    free_text = {"package_number": "P1", "dimensions": "30x20x10", "lines": lines}
    refused = await api.post(
        f"/v1/fulfillment-requests/{rid}/pack", json={"packages": [free_text]}, headers=wms
    )
    assert "free text is no longer accepted" in refused.text
    for url in ("ftp://labels.example/1.pdf", "not a url"):
        package = {"package_number": "P1", "label_url": url, "lines": lines}
        refused = await api.post(
            f"/v1/fulfillment-requests/{rid}/pack", json={"packages": [package]}, headers=wms
        )
        assert _fields(refused) == {"body.packages.0.label_url"}, url
    assert (await api.get(f"/v1/orders/{number}", headers=wms)).json() == before
    assert (await api.get(f"/v1/fulfillment-requests/{rid}", headers=wms)).json() == queued

    # tracking for a package the request does not hold: refused, nothing shipped
    package = {"package_number": "P1", "weight": {"value": 0.5, "unit": "lb"}, "lines": lines}
    packed = await api.post(
        f"/v1/fulfillment-requests/{rid}/pack", json={"packages": [package]}, headers=wms
    )
    assert packed.status_code == 200, packed.text
    stray = {"carrier": "UPS", "packages": [{"package_number": "P9", "tracking_number": "1Z"}]}
    refused = await api.post(f"/v1/fulfillment-requests/{rid}/ship", json=stray, headers=wms)
    assert refused.status_code == 422 and refused.json()["field"] == "packages.0.package_number"
    assert (await api.get(f"/v1/orders/{number}", headers=wms)).json()["status"] == "in_fulfillment"


async def test_the_queue_sorts_and_filters_by_priority_and_requested_ship_time(
    api: httpx.AsyncClient, shop: TenantKeys
) -> None:
    oms, wms = shop.auth(Role.OMS), shop.auth(Role.WMS)
    wishes = {  # name: priority, requested ship time
        "late-urgent": (10, "2031-03-05T00:00:00Z"),
        "soon-normal": (100, "2031-03-01T00:00:00Z"),
        "whenever": (50, None),
    }
    numbers = {}
    for name, (priority, ship_at) in wishes.items():
        body = _order([WIDGET], priority=priority, requested_ship_at=ship_at)
        assert (await api.post("/v1/orders", json=body, headers=oms)).is_success
        numbers[body["order_number"]] = name
    for number in numbers:
        await _until(api, shop, number, "allocated", seconds=60)

    async def queue(query: str) -> list[str]:
        response = await api.get(f"/v1/fulfillment-requests?warehouse=WH1&{query}", headers=wms)
        assert response.status_code == 200, response.text
        return [numbers[r["order_number"]] for r in response.json()["items"]]

    assert await queue("sort=priority") == ["late-urgent", "whenever", "soon-normal"]
    assert await queue("sort=requested_ship_at") == ["soon-normal", "late-urgent", "whenever"]
    assert await queue("sort=priority&max_priority=50") == ["late-urgent", "whenever"]
    before = "ship_before=2031-03-02T00:00:00Z"
    assert await queue(f"sort=priority&{before}") == ["soon-normal"]
    # (requests are made when each order allocates, in whatever order that happens)
    assert sorted(await queue("sort=created_at")) == sorted(wishes)
    refused = await api.get("/v1/fulfillment-requests?sort=weight", headers=wms)
    assert refused.status_code == 422 and _fields(refused) == {"query.sort"}
    naive = await api.get("/v1/fulfillment-requests?ship_before=2031-03-02T00:00:00", headers=wms)
    assert naive.status_code == 422 and _fields(naive) == {"query.ship_before"}
