"""Backorders and promise dates through the API: the backorder list in serving order,
each waiting line's date from the stock and purchase orders that cover it, on the
order and in availability. Purchase orders are written straight into their tables
here (seed_purchase_order), as the PO workflow's activities write them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
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
from tests.e2e.inventory_setup import build_catalogue, key, receive

PROBLEM = "application/problem+json"


@pytest.fixture
async def shop(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    dev_worker: Worker,
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[TenantKeys]:
    """The tenant's catalogue; after the test, its books reconcile (the seeded POs'
    lines are part of `incoming`)."""
    await build_catalogue(api, tenant)
    for item in (
        {"sku": "BACK", "name": "backorderable", "backorder_policy": "allow"},
        {
            "sku": "CLOTH",
            "name": "cloth by the yard",
            "backorder_policy": "allow",
            "uom": {"unit": "yd", "base_units_per_unit": 4, "min_increment": 0.25},
        },
    ):
        created = await api.post("/v1/items", json=item, headers=tenant.auth(Role.WMS))
        assert created.status_code == 201, created.text
    yield tenant
    async with sessions() as session:
        tenant_id = await session.scalar(
            text("SELECT id FROM tenants WHERE slug = :s"), {"s": tenant.slug}
        )
        assert await find_violations(session, int(tenant_id)) == []


async def seed_purchase_order(
    sessions: async_sessionmaker[AsyncSession],
    tenant: TenantKeys,
    po_number: str,
    warehouse: str,
    lines: list[tuple[str, int, datetime]],
) -> None:
    """An open PO (lines: sku, base units, expected at), and the `incoming` it adds
    to its warehouse's levels."""
    async with sessions() as session, session.begin():
        po = (
            await session.execute(
                text(
                    "INSERT INTO purchase_orders (tenant_id, po_number, supplier, warehouse_id,"
                    " status, workflow_id)"
                    " SELECT t.id, :n, 'ACME', w.id, 'open', :wf FROM tenants t"
                    " JOIN warehouses w ON w.tenant_id = t.id AND w.code = :w"
                    " WHERE t.slug = :slug RETURNING id, tenant_id, warehouse_id"
                ),
                {"n": po_number, "wf": f"po-{po_number}", "w": warehouse, "slug": tenant.slug},
            )
        ).one()
        for line_no, (sku, ordered, expected_at) in enumerate(lines, 1):
            item_id = await session.scalar(
                text("SELECT id FROM items WHERE tenant_id = :t AND sku = :s"),
                {"t": po.tenant_id, "s": sku},
            )
            await session.execute(
                text(
                    "INSERT INTO purchase_order_lines (purchase_order_id, line_no, tenant_id,"
                    " item_id, ordered, received, expected_at)"
                    " VALUES (:po, :no, :t, :i, :q, 0, :at)"
                ),
                {
                    "po": po.id,
                    "no": line_no,
                    "t": po.tenant_id,
                    "i": item_id,
                    "q": ordered,
                    "at": expected_at,
                },
            )
            await session.execute(
                text(
                    "INSERT INTO stock_levels (tenant_id, warehouse_id, item_id, on_hand,"
                    " reserved, allocated, in_transit, incoming, held)"
                    " VALUES (:t, :w, :i, 0, 0, 0, 0, :q, 0) ON CONFLICT (warehouse_id, item_id)"
                    " DO UPDATE SET incoming = stock_levels.incoming + :q"
                ),
                {"t": po.tenant_id, "w": po.warehouse_id, "i": item_id, "q": ordered},
            )


async def _change_po(
    sessions: async_sessionmaker[AsyncSession], po_number: str, sql: str, **params: Any
) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            text(sql),
            {"po": po_number, **params},
        )


async def _place(
    api: httpx.AsyncClient, shop: TenantKeys, lines: list[tuple[str, float]], **extra: Any
) -> str:
    body = {
        "order_number": unique("SO"),
        "customer_id": "C-1",
        "currency": "EUR",
        "lines": [
            {"line_id": str(n), "sku": sku, "quantity": quantity}
            for n, (sku, quantity) in enumerate(lines, 1)
        ],
        **extra,
    }
    placed = await api.post("/v1/orders", json=body, headers=shop.auth(Role.OMS))
    assert placed.status_code == 201, placed.text
    return str(body["order_number"])


async def _waiting(
    api: httpx.AsyncClient, shop: TenantKeys, path: str, count: int
) -> list[dict[str, Any]]:
    """The backorder list once it holds `count` lines (orders backorder as they run)."""
    items: list[dict[str, Any]] = []
    for _ in range(300):
        response = await api.get(path, headers=shop.auth(Role.VIEWER))
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        if len(items) == count:
            return items
        await asyncio.sleep(0.1)
    raise AssertionError(f"{path}: {items}")


async def _order_once(
    api: httpx.AsyncClient, shop: TenantKeys, number: str, status: str
) -> dict[str, Any]:
    order: dict[str, Any] = {}
    for _ in range(200):
        order = (await api.get(f"/v1/orders/{number}", headers=shop.auth(Role.VIEWER))).json()
        if order["status"] == status:
            return order
        await asyncio.sleep(0.1)
    raise AssertionError(f"{number} never became {status}: {order}")


def _at(body: dict[str, Any]) -> datetime | None:
    value = body["expected_at"]
    return None if value is None else datetime.fromisoformat(value)


def _po(number: str, warehouse: str) -> dict[str, Any]:
    return {"type": "purchase_order", "id": number, "warehouse": warehouse}


async def test_backordered_lines_are_listed_in_serving_order_with_the_po_that_covers_each(
    api: httpx.AsyncClient, shop: TenantKeys, sessions: async_sessionmaker[AsyncSession]
) -> None:
    soon, later = datetime.now(UTC) + timedelta(days=2), datetime.now(UTC) + timedelta(days=5)
    po1, po2 = unique("PO"), unique("PO")
    await seed_purchase_order(sessions, shop, po1, "WH1", [("BACK", 4, soon)])
    await seed_purchase_order(sessions, shop, po2, "WH2", [("BACK", 10, later)])
    first = await _place(api, shop, [("BACK", 3)], priority=5)
    urgent = await _place(api, shop, [("BACK", 3)], priority=1)
    await _waiting(api, shop, "/v1/backorders", 2)  # older than the next, same priority
    # An order whose overall status is not `backordered`: one line ships from stock.
    assert (await receive(api, shop, "WIDGET", 5)).status_code == 201
    mixed = await _place(
        api, shop, [("WIDGET", 1), ("BACK", 3)], priority=5, customer_id="C-MIX", allow_split=True
    )
    big = await _place(api, shop, [("BACK", 10)], priority=9)

    listed = await _waiting(api, shop, "/v1/backorders?sku=BACK", 4)
    assert [(x["order_number"], x["line_id"]) for x in listed] == [
        (urgent, "1"),  # priority 1 first, then the oldest
        (first, "1"),
        (mixed, "2"),
        (big, "1"),
    ]
    assert [_at(x) for x in listed] == [soon, later, later, None]  # 3 ≤ 4; 6, 9 ≤ 14; 19 > 14
    assert [x["covered_by"] for x in listed] == [
        _po(po1, "WH1"),
        _po(po2, "WH2"),
        _po(po2, "WH2"),
        None,
    ]
    assert listed[2]["customer_id"] == "C-MIX" and listed[2]["backordered"] == 3

    order = (await api.get(f"/v1/orders/{urgent}", headers=shop.auth(Role.VIEWER))).json()
    assert _at(order["lines"][0]) == soon
    assert order["lines"][0]["covered_by"] == _po(po1, "WH1")
    # allocated (its WIDGET line), yet its BACK line waits
    mixed_order = await _order_once(api, shop, mixed, "allocated")
    assert [_at(line) for line in mixed_order["lines"]] == [None, later]

    viewer = shop.auth(Role.VIEWER)
    by_warehouse = (await api.get("/v1/backorders?warehouse=WH2", headers=viewer)).json()
    assert [x["order_number"] for x in by_warehouse["items"]] == [first, mixed]
    by_customer = (await api.get("/v1/backorders?customer_id=C-MIX", headers=viewer)).json()
    assert [x["order_number"] for x in by_customer["items"]] == [mixed]

    page = (await api.get("/v1/backorders?limit=3", headers=viewer)).json()
    rest = (
        await api.get(f"/v1/backorders?limit=3&cursor={page['next_cursor']}", headers=viewer)
    ).json()
    assert [x["order_number"] for x in page["items"] + rest["items"]] == [
        urgent,
        first,
        mixed,
        big,
    ]
    assert rest["next_cursor"] is None

    availability = (await api.get("/v1/inventory/availability?sku=BACK", headers=viewer)).json()
    incoming = {w["warehouse"]: w["incoming_by_date"] for w in availability["items"]}
    assert incoming["WH1"] == [
        {
            "expected_at": incoming["WH1"][0]["expected_at"],
            "quantity": 4,
            "source": _po(po1, "WH1"),
            "late": False,
        }
    ]
    assert datetime.fromisoformat(incoming["WH1"][0]["expected_at"]) == soon
    assert [(x["quantity"], x["source"]["id"]) for x in incoming["WH2"]] == [(10, po2)]


async def test_a_promise_moves_when_its_po_is_rescheduled_or_late_and_goes_when_received(
    api: httpx.AsyncClient, shop: TenantKeys, sessions: async_sessionmaker[AsyncSession]
) -> None:
    soon, later = datetime.now(UTC) + timedelta(days=2), datetime.now(UTC) + timedelta(days=5)
    po1, po2 = unique("PO"), unique("PO")
    await seed_purchase_order(sessions, shop, po1, "WH1", [("CLOTH", 12, soon)])  # 3 yd
    await seed_purchase_order(sessions, shop, po2, "WH1", [("CLOTH", 40, later)])  # 10 yd
    first = await _place(api, shop, [("CLOTH", 2.5)], priority=1)
    second = await _place(api, shop, [("CLOTH", 2)], priority=2)
    path = "/v1/backorders?sku=CLOTH"
    listed = await _waiting(api, shop, path, 2)
    assert [(x["backordered"], x["unit"], _at(x)) for x in listed] == [
        (2.5, "yd", soon),
        (2, "yd", later),  # 4.5 yd > the 3 yd PO 1 brings
    ]

    # The supplier moves PO 1 to after PO 2: both lines wait for PO 2.
    moved = soon + timedelta(days=7)
    await _change_po(
        sessions,
        po1,
        "UPDATE purchase_order_lines SET expected_at = :at WHERE purchase_order_id ="
        " (SELECT id FROM purchase_orders WHERE po_number = :po)",
        at=moved,
    )
    listed = await _waiting(api, shop, path, 2)
    assert [(_at(x), x["covered_by"]["id"]) for x in listed] == [(later, po2), (later, po2)]

    # PO 2 is late: its date passed, so it counts a day (the grace) from now.
    await _change_po(
        sessions,
        po2,
        "UPDATE purchase_order_lines SET expected_at = :at WHERE purchase_order_id ="
        " (SELECT id FROM purchase_orders WHERE po_number = :po)",
        at=datetime.now(UTC) - timedelta(hours=1),
    )
    before = datetime.now(UTC)
    listed = await _waiting(api, shop, path, 2)
    after = datetime.now(UTC)
    for line in listed:
        promised = _at(line)
        assert promised is not None
        assert before + timedelta(hours=24) <= promised <= after + timedelta(hours=24)
    incoming = (
        await api.get("/v1/inventory/availability?sku=CLOTH", headers=shop.auth(Role.VIEWER))
    ).json()["items"][0]["incoming_by_date"]
    assert [(x["source"]["id"], x["late"]) for x in incoming] == [(po2, True), (po1, False)]

    # The second order is canceled; PO 1 is received (3 yd): the first order takes
    # it, and nothing waits any more.
    canceled = await api.post(
        f"/v1/orders/{second}/cancel", json={"reason": "no"}, headers=shop.auth(Role.OMS)
    )
    assert canceled.status_code == 200, canceled.text
    await _waiting(api, shop, path, 1)
    await _change_po(
        sessions,
        po1,
        "UPDATE purchase_order_lines SET received = ordered WHERE purchase_order_id ="
        " (SELECT id FROM purchase_orders WHERE po_number = :po)",
    )
    await _change_po(
        sessions, po1, "UPDATE purchase_orders SET status = 'received' WHERE po_number = :po"
    )
    async with sessions() as session, session.begin():
        await session.execute(
            text(
                "UPDATE stock_levels SET incoming = incoming - 12 WHERE item_id ="
                " (SELECT id FROM items WHERE sku = 'CLOTH' AND tenant_id ="
                " (SELECT id FROM tenants WHERE slug = :slug))"
            ),
            {"slug": shop.slug},
        )
    assert (await receive(api, shop, "CLOTH", 3)).status_code == 201
    assert await _waiting(api, shop, path, 0) == []
    order = await _order_once(api, shop, first, "allocated")
    assert order["lines"][0]["expected_at"] is None


async def test_a_transfer_in_transit_promises_its_destination_stock_when_its_alert_is_due(
    api: httpx.AsyncClient, shop: TenantKeys
) -> None:
    wms = {**shop.auth(Role.WMS)}
    assert (await receive(api, shop, "BACK", 6)).status_code == 201
    number = unique("TR")
    transfer = {
        "transfer_number": number,
        "from_warehouse": "WH1",
        "to_warehouse": "WH2",
        "lines": [{"sku": "BACK", "quantity": 6}],
    }
    created = await api.post("/v1/transfers", json=transfer, headers={**wms, **key()})
    assert created.status_code == 201, created.text
    shipped: httpx.Response | None = None
    for _ in range(100):  # the transfer reserves first; shipping waits for that
        shipped = await api.post(
            f"/v1/transfers/{number}/ship", json={"carrier": "DHL"}, headers={**wms, **key()}
        )
        if shipped.status_code == 200:
            break
        await asyncio.sleep(0.1)
    assert shipped is not None and shipped.status_code == 200, shipped and shipped.text
    due = datetime.fromisoformat(shipped.json()["alert_at"])

    # An order's age is when its run first recorded it: the second waits its turn.
    number_1 = await _place(api, shop, [("BACK", 4)])
    await _waiting(api, shop, "/v1/backorders", 1)
    number_2 = await _place(api, shop, [("BACK", 4)])
    listed = await _waiting(api, shop, "/v1/backorders", 2)
    assert [(x["order_number"], _at(x), x["covered_by"]) for x in listed] == [
        (number_1, due, {"type": "transfer", "id": number, "warehouse": "WH2"}),
        (number_2, None, None),  # 8 > the 6 on their way
    ]
    availability = (
        await api.get("/v1/inventory/availability?sku=BACK", headers=shop.auth(Role.VIEWER))
    ).json()
    [to_wh2] = [w for w in availability["items"] if w["warehouse"] == "WH2"]
    assert [
        (x["quantity"], x["source"]["type"], x["late"]) for x in to_wh2["incoming_by_date"]
    ] == [(6, "transfer", False)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("sku=not%20a%20sku", "sku"),
        ("warehouse=WH%201", "warehouse"),
        ("customer_id=%01", "customer_id"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("cursor=bm90IGEgY3Vyc29y", "cursor"),
    ],
)
async def test_bad_backorder_list_parameters_are_refused_naming_the_parameter(
    api: httpx.AsyncClient, tenant: TenantKeys, query: str, field: str
) -> None:
    response = await api.get(f"/v1/backorders?{query}", headers=tenant.auth(Role.VIEWER))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert field in response.text


async def test_a_tenant_sees_only_its_own_backorders(
    api: httpx.AsyncClient,
    shop: TenantKeys,
    other_tenant: TenantKeys,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await seed_purchase_order(
        sessions, shop, unique("PO"), "WH1", [("BACK", 5, datetime.now(UTC) + timedelta(days=1))]
    )
    number = await _place(api, shop, [("BACK", 2)])
    assert [x["order_number"] for x in await _waiting(api, shop, "/v1/backorders", 1)] == [number]
    theirs = await api.get("/v1/backorders", headers=other_tenant.auth(Role.VIEWER))
    assert theirs.status_code == 200 and theirs.json() == {"items": [], "next_cursor": None}
    anonymous = await api.get("/v1/backorders")
    assert anonymous.status_code == 401
