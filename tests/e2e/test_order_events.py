"""Order, fulfillment-request and shipment events, written by the order projection in
the transaction of each step, read through GET /v1/events after the relay's step
(db.events.publish_pending): each change told once, in order, with `data` as GET
shows the subject; the feed is the tenant's alone and refuses bad input by name."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from db.order_projection import OrderProjection
from db.orders import projected_order
from domain.roles import Role
from tests.conftest import TenantKeys
from tests.e2e.test_orders_api import ADDRESS, _order, _until
from tests.e2e.test_orders_api import shop as shop  # the fixture: WIDGET 10, FABRIC 5
from tests.integration.test_outbox import _publish_all as _publish

PROBLEM = "application/problem+json"
WIDGETS = {"line_id": "1", "sku": "WIDGET", "quantity": 2, "unit_price": 9.5}
FABRIC = {"line_id": "2", "sku": "FABRIC", "quantity": 1.1, "unit_price": 12}  # 1.25 yd


async def _feed(api: httpx.AsyncClient, tenant: TenantKeys, **params: Any) -> list[dict[str, Any]]:
    """Every event of the feed the tenant's viewer reads, page by page."""
    items: list[dict[str, Any]] = []
    after = None
    while True:
        query = {**params, **({"after": after} if after else {})}
        page = await api.get("/v1/events", params=query, headers=tenant.auth(Role.VIEWER))
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        if not body["items"]:
            assert body["next_cursor"] == after  # nothing new: the cursor stays put
            return items
        after = body["next_cursor"]


def _told(items: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return [(e["type"], e["subject"]["id"], e["sequence"]) for e in items]


async def _finished(dev_env: WorkflowEnvironment, workflow_id: str) -> None:
    await dev_env.client.get_workflow_handle(workflow_id).result()


async def _events_of(api: httpx.AsyncClient, tenant: TenantKeys, number: str, rid: str) -> Any:
    items = await _feed(api, tenant)
    return [e for e in items if e["subject"]["id"] in (number, rid)]


async def _ship(api: httpx.AsyncClient, tenant: TenantKeys, rid: str) -> None:
    wms = tenant.auth(Role.WMS)
    lines = [{"line_id": "1", "quantity": 2}, {"line_id": "2", "quantity": 1.25}]
    steps: list[tuple[str, dict[str, Any] | None]] = [
        ("accept", None),
        ("pick", {"lines": lines}),
        ("pack", {"packages": [{"package_number": "P1", "lines": lines}]}),
        (
            "ship",
            {"carrier": "DHL", "packages": [{"package_number": "P1", "tracking_number": "JJD1"}]},
        ),
    ]
    for step, body in steps:
        done = await api.post(f"/v1/fulfillment-requests/{rid}/{step}", json=body, headers=wms)
        assert done.status_code == 200, (step, done.text)


async def test_an_orders_whole_life_produces_exactly_its_events_in_order_each_once(
    api: httpx.AsyncClient,
    shop: TenantKeys,
    sessions: async_sessionmaker[AsyncSession],
    dev_env: WorkflowEnvironment,
) -> None:
    body = _order([WIDGETS, FABRIC], ship_to=ADDRESS)
    created = await api.post("/v1/orders", json=body, headers=shop.auth(Role.OMS))
    assert created.status_code == 201, created.text
    number = body["order_number"]
    [request] = (await _until(api, shop, number, "allocated"))["fulfillment_requests"]
    rid = request["id"]
    await _ship(api, shop, rid)
    await _finished(dev_env, created.json()["workflow_id"])
    await _publish(sessions)

    items = await _events_of(api, shop, number, rid)
    assert _told(items) == [
        ("order.created", number, 1),  # received, its request made in the same step
        ("fulfillment_request.created", rid, 1),
        ("order.status_changed", number, 2),
        ("order.status_changed", number, 3),  # accepted: in fulfillment
        ("fulfillment_request.accepted", rid, 2),
        ("fulfillment_request.picked", rid, 3),
        ("fulfillment_request.packed", rid, 4),
        ("order.status_changed", number, 4),
        ("order.shipped", number, 5),
        ("fulfillment_request.shipped", rid, 5),
        ("shipment.created", rid, 1),
    ]
    changes = [
        (e["data"]["previous_status"], e["data"]["status"])
        for e in items
        if e["type"] == "order.status_changed"
    ]
    assert changes == [
        ("received", "allocated"),
        ("allocated", "in_fulfillment"),
        ("in_fulfillment", "shipped"),
    ]
    assert {e["tenant"] for e in items} == {shop.slug}
    assert len({e["id"] for e in items}) == len(items)

    # data is the subject as GET shows it (display units: 1.25 yd of fabric)
    viewer = shop.auth(Role.VIEWER)
    order = (await api.get(f"/v1/orders/{number}", headers=viewer)).json()
    by_type = {e["type"]: e["data"] for e in items}
    assert by_type["order.shipped"] == order
    assert by_type["order.shipped"]["lines"][1]["shipped"] == 1.25
    shown = (await api.get(f"/v1/fulfillment-requests/{rid}", headers=viewer)).json()
    assert by_type["fulfillment_request.shipped"] == shown
    assert by_type["shipment.created"] == order["shipments"][0]
    assert by_type["shipment.created"]["packages"][0]["tracking_number"] == "JJD1"
    assert by_type["shipment.created"]["order_number"] == number

    # the filters read the same events
    only_order = await _feed(api, shop, type="order.*", subject=f"order:{number}")
    assert _told(only_order) == [t for t in _told(items) if t[0].startswith("order.")]
    shipped = await _feed(api, shop, type="order.shipped,shipment.created", limit=1)
    assert _told(shipped) == [("order.shipped", number, 5), ("shipment.created", rid, 1)]


async def _tenant_id(sessions: async_sessionmaker[AsyncSession], slug: str) -> int:
    async with sessions() as session:
        found = await session.scalar(text("SELECT id FROM tenants WHERE slug = :s"), {"s": slug})
    assert found is not None
    return int(found)


async def _count(sessions: async_sessionmaker[AsyncSession], tenant_id: int) -> int:
    async with sessions() as session:
        n = await session.scalar(
            text("SELECT count(*) FROM events WHERE tenant_id = :t"), {"t": tenant_id}
        )
    return int(n or 0)


async def test_a_canceled_order_tells_its_cancel_and_a_repeated_projection_writes_nothing(
    api: httpx.AsyncClient,
    shop: TenantKeys,
    sessions: async_sessionmaker[AsyncSession],
    dev_env: WorkflowEnvironment,
) -> None:
    body = _order([WIDGETS], ship_to=ADDRESS)
    created = await api.post("/v1/orders", json=body, headers=shop.auth(Role.OMS))
    number = body["order_number"]
    [request] = (await _until(api, shop, number, "allocated"))["fulfillment_requests"]
    rid = request["id"]
    canceled = await api.post(
        f"/v1/orders/{number}/cancel", json={"reason": "changed mind"}, headers=shop.auth(Role.OMS)
    )
    assert canceled.status_code == 200, canceled.text
    await _finished(dev_env, created.json()["workflow_id"])
    await _publish(sessions)
    items = await _events_of(api, shop, number, rid)
    assert _told(items) == [
        ("order.created", number, 1),
        ("fulfillment_request.created", rid, 1),
        ("order.status_changed", number, 2),
        ("order.status_changed", number, 3),
        ("order.canceled", number, 4),
        ("fulfillment_request.canceled", rid, 2),
    ]
    assert items[4]["data"]["cancel_reason"] == "changed mind"
    assert items[3]["data"]["previous_status"] == "allocated"

    # the projection written again (a retried activity), older, or newer but unchanged
    tenant_id = await _tenant_id(sessions, shop.slug)
    before = await _count(sessions, tenant_id)
    async with sessions() as session:
        view = await projected_order(session, tenant_id, number)
    assert view is not None
    projection = OrderProjection(sessions)
    await projection.update(view)
    view.version -= 1
    await projection.update(view)
    view.version += 2
    await projection.update(view)
    assert await _count(sessions, tenant_id) == before


async def test_the_feed_is_the_tenants_own(
    api: httpx.AsyncClient,
    shop: TenantKeys,
    other_tenant: TenantKeys,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    body = _order([WIDGETS], ship_to=ADDRESS)
    assert (await api.post("/v1/orders", json=body, headers=shop.auth(Role.OMS))).is_success
    await _until(api, shop, body["order_number"], "allocated")
    await _publish(sessions)
    told = _told(await _feed(api, shop, type="order.*"))  # (the shop's stock has events too)
    assert told[0] == ("order.created", body["order_number"], 1)
    assert await _feed(api, other_tenant) == []
    assert await _feed(api, other_tenant, subject=f"order:{body['order_number']}") == []
    for role in Role:  # every role reads the feed
        page = await api.get("/v1/events", headers=shop.auth(role))
        assert page.status_code == 200 and page.json()["items"], role


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "order.nope"}, "type"),
        ({"type": "order.*,parcel.*"}, "type"),
        ({"after": "not-a-cursor"}, "after"),
        ({"after": "bnVsbA=="}, "after"),  # base64 of JSON null
        ({"subject": "order"}, "subject"),
        ({"subject": "parcel:P1"}, "subject"),
        ({"limit": 0}, "query.limit"),
        ({"limit": 501}, "query.limit"),
    ],
)
async def test_bad_feed_input_is_a_422_naming_the_parameter(
    api: httpx.AsyncClient, tenant: TenantKeys, params: dict[str, Any], field: str
) -> None:
    refused = await api.get("/v1/events", params=params, headers=tenant.auth(Role.VIEWER))
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == PROBLEM
    problem = refused.json()
    fields = {problem.get("field")} | {e["field"] for e in problem.get("errors", [])}
    assert field in fields, problem
