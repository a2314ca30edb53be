"""Stock through the API: every route, idempotency, roles, tenants, and bad input
that is refused as problem+json while balances and the ledger stay as they were."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from domain.roles import Role
from tests.conftest import TenantKeys
from tests.e2e.inventory_setup import build_catalogue, key, receive, snapshot

PROBLEM = "application/problem+json"


@pytest.fixture
async def stocked(api: httpx.AsyncClient, tenant: TenantKeys) -> TenantKeys:
    await build_catalogue(api, tenant)
    assert (await receive(api, tenant, "WIDGET", 10)).status_code == 201
    assert (await receive(api, tenant, "FABRIC", 2.75)).status_code == 201
    return tenant


async def test_a_receipt_shows_in_balances_availability_and_the_ledger(
    api: httpx.AsyncClient, stocked: TenantKeys
) -> None:
    viewer = stocked.auth(Role.VIEWER)
    balances = (await api.get("/v1/inventory/balances?sku=FABRIC", headers=viewer)).json()
    [fabric] = balances["items"]
    assert (fabric["warehouse"], fabric["unit"], fabric["on_hand"], fabric["available"]) == (
        "WH1",
        "yd",
        2.75,
        2.75,
    )
    assert [(p["location"], p["on_hand"]) for p in fabric["locations"]] == [("A1", 2.75)]

    availability = (await api.get("/v1/inventory/availability?sku=WIDGET", headers=viewer)).json()
    assert availability["available"] == 10
    assert availability["items"][0] | {"warehouse": "WH1"} == {
        "warehouse": "WH1",
        "on_hand": 10,
        "reserved": 0,
        "allocated": 0,
        "available": 10,
        "held": 0,
        "in_transit": 0,
        "incoming": 0,
        "incoming_by_date": [],
    }

    ledger = (await api.get("/v1/inventory/movements?sku=FABRIC", headers=viewer)).json()
    assert [(m["type"], m["quantity"], m["to_location"]) for m in ledger["items"]] == [
        ("receipt", 2.75, "A1")
    ]


async def test_the_same_key_replays_and_another_body_conflicts(
    api: httpx.AsyncClient, stocked: TenantKeys
) -> None:
    headers = {**stocked.auth(Role.WMS), "Idempotency-Key": "receipt-42"}
    body = {"warehouse": "WH1", "location": "A2", "lines": [{"sku": "WIDGET", "quantity": 5}]}
    first = await api.post("/v1/inventory/receipts", json=body, headers=headers)
    again = await api.post("/v1/inventory/receipts", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    other = {**body, "lines": [{"sku": "WIDGET", "quantity": 6}]}
    conflict = await api.post("/v1/inventory/receipts", json=other, headers=headers)
    assert conflict.status_code == 409
    assert conflict.json()["field"] == "Idempotency-Key"
    ledger = await api.get("/v1/inventory/movements?sku=WIDGET", headers=headers)
    assert len(ledger.json()["items"]) == 2  # the fixture's receipt and this one


async def test_stock_changes_need_an_idempotency_key(
    api: httpx.AsyncClient, stocked: TenantKeys
) -> None:
    body = {"warehouse": "WH1", "location": "A1", "lines": [{"sku": "WIDGET", "quantity": 1}]}
    response = await api.post("/v1/inventory/receipts", json=body, headers=stocked.auth(Role.WMS))
    assert response.status_code == 400
    assert response.json()["field"] == "Idempotency-Key"


async def test_adjust_move_and_count(api: httpx.AsyncClient, stocked: TenantKeys) -> None:
    wms = stocked.auth(Role.WMS)
    adjusted = await api.post(
        "/v1/inventory/adjustments",
        json={
            "warehouse": "WH1",
            "location": "A1",
            "sku": "WIDGET",
            "delta": -2,
            "reason": "water damage",
        },
        headers={**wms, **key()},
    )
    assert adjusted.status_code == 201
    assert adjusted.json()["movements"][0]["from_location"] == "A1"
    moved = await api.post(
        "/v1/inventory/moves",
        json={
            "warehouse": "WH1",
            "from_location": "A1",
            "to_location": "A2",
            "sku": "FABRIC",
            "quantity": 1.5,
        },
        headers={**wms, **key()},
    )
    assert moved.status_code == 201
    counted = await api.post(
        "/v1/inventory/cycle-counts",
        json={
            "warehouse": "WH1",
            "location": "A1",
            "reason": "weekly",
            "counts": [{"sku": "WIDGET", "counted": 7}, {"sku": "FABRIC", "counted": 1}],
        },
        headers={**wms, **key()},
    )
    assert counted.status_code == 201
    # A1 held 8 widgets (10 - 2) and 1.25 yd (2.75 - 1.5): one widget and 0.25 yd are missing
    assert [
        (a["sku"], a["quantity"], a["from_location"], a["to_location"])
        for a in counted.json()["adjustments"]
    ] == [("WIDGET", 1, "A1", None), ("FABRIC", 0.25, "A1", None)]
    balances = (await api.get("/v1/inventory/balances?location=A1", headers=wms)).json()["items"]
    assert {b["sku"]: b["locations"][0]["on_hand"] for b in balances} == {
        "WIDGET": 7,
        "FABRIC": 1,
    }


async def test_reserve_allocate_and_release(api: httpx.AsyncClient, stocked: TenantKeys) -> None:
    wms = stocked.auth(Role.WMS)
    today = date.today()
    for lot, days, location in (("LATE", 40, "A1"), ("SOON", 4, "A2")):
        response = await receive(
            api,
            stocked,
            "MILK",
            6,
            lot=lot,
            location=location,
            expires_at=str(today + timedelta(days=days)),
        )
        assert response.status_code == 201, response.text
    reserved = await api.post(
        "/v1/inventory/reservations",
        json={
            "warehouse": "WH1",
            "sku": "MILK",
            "quantity": 8,
            "source_type": "pos",
            "source_id": "till-3",
        },
        headers={**wms, **key()},
    )
    assert reserved.status_code == 201
    reservation = reserved.json()
    assert (reservation["quantity"], reservation["status"]) == (8, "active")

    allocated = await api.post(
        f"/v1/inventory/reservations/{reservation['id']}/allocate", headers={**wms, **key()}
    )
    assert allocated.status_code == 200
    assert [(a["lot"], a["quantity"]) for a in allocated.json()["allocations"]] == [
        ("SOON", 6),
        ("LATE", 2),
    ]
    release = await api.post(
        f"/v1/inventory/reservations/{reservation['id']}/release", headers={**wms, **key()}
    )
    assert release.status_code == 409  # all of it is allocated now: nothing to release
    availability = await api.get("/v1/inventory/availability?sku=MILK", headers=wms)
    assert availability.json()["items"][0]["allocated"] == 8


async def test_a_lot_past_its_expiry_date_reads_expired_and_is_never_promised(
    api: httpx.AsyncClient, stocked: TenantKeys
) -> None:
    """From its expiry date on, before any schedule marks it."""
    wms, viewer = stocked.auth(Role.WMS), stocked.auth(Role.VIEWER)
    today = datetime.now(UTC).date()
    for lot, days, quantity in (("GONE", -1, 3), ("GOOD", 30, 2)):
        expires_at = str(today + timedelta(days=days))
        response = await receive(api, stocked, "MILK", quantity, lot=lot, expires_at=expires_at)
        assert response.status_code == 201, response.text

    availability = (await api.get("/v1/inventory/availability?sku=MILK", headers=viewer)).json()
    level = availability["items"][0]
    assert (availability["available"], level["held"], level["on_hand"]) == (2, 3, 5)
    balances = (await api.get("/v1/inventory/balances?sku=MILK", headers=viewer)).json()
    places = {p["lot"]: p for p in balances["items"][0]["locations"]}
    assert (places["GONE"]["lot_status"], places["GONE"]["available"]) == ("expired", 0)
    assert (places["GOOD"]["lot_status"], places["GOOD"]["available"]) == ("available", 2)

    before = await snapshot(api, stocked)
    for line, status in (({"quantity": 3}, 409), ({"quantity": 1, "lot": "GONE"}, 422)):
        body = {"warehouse": "WH1", "sku": "MILK", "source_type": "pos", **line}
        response = await api.post("/v1/inventory/reservations", json=body, headers={**wms, **key()})
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == PROBLEM
    assert await snapshot(api, stocked) == before


async def test_a_short_reservation_is_409_with_the_shortage(
    api: httpx.AsyncClient, stocked: TenantKeys
) -> None:
    before = await snapshot(api, stocked)
    response = await api.post(
        "/v1/inventory/reservations",
        json={"warehouse": "WH1", "sku": "FABRIC", "quantity": 3},
        headers={**stocked.auth(Role.WMS), **key()},
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["shortages"] == [
        {
            "line": 0,
            "sku": "FABRIC",
            "warehouse": "WH1",
            "location": None,
            "lot": None,
            "requested": 3,
            "available": 2.75,
        },
    ]
    assert await snapshot(api, stocked) == before


RECEIPT = {"warehouse": "WH1", "location": "A1"}
BAD_INPUT: list[tuple[str, str, dict[str, Any], int, str]] = [
    (
        "unknown sku",
        "receipts",
        {**RECEIPT, "lines": [{"sku": "NOPE", "quantity": 1}]},
        404,
        "lines.0.sku",
    ),
    (
        "unknown warehouse",
        "receipts",
        {**RECEIPT, "warehouse": "WH9", "lines": [{"sku": "WIDGET", "quantity": 1}]},
        404,
        "warehouse",
    ),
    (
        "unknown location",
        "receipts",
        {**RECEIPT, "location": "Z9", "lines": [{"sku": "WIDGET", "quantity": 1}]},
        404,
        "location",
    ),
    (
        "zero quantity",
        "receipts",
        {**RECEIPT, "lines": [{"sku": "WIDGET", "quantity": 0}]},
        422,
        "body.lines.0.quantity",
    ),
    (
        "negative quantity",
        "receipts",
        {**RECEIPT, "lines": [{"sku": "WIDGET", "quantity": -3}]},
        422,
        "body.lines.0.quantity",
    ),
    (
        "finer than increment",
        "receipts",
        {**RECEIPT, "lines": [{"sku": "FABRIC", "quantity": 1.1}]},
        422,
        "lines.0.quantity",
    ),
    (
        "lot missing",
        "receipts",
        {**RECEIPT, "lines": [{"sku": "MILK", "quantity": 1}]},
        422,
        "lines.0.lot",
    ),
    (
        "serial count",
        "receipts",
        {**RECEIPT, "lines": [{"sku": "PHONE", "quantity": 2, "serials": ["S1"]}]},
        422,
        "lines.0.serials",
    ),
    (
        "unknown lot",
        "adjustments",
        {**RECEIPT, "sku": "MILK", "lot": "NOPE", "delta": -1, "reason": "x"},
        404,
        "lot",
    ),
    (
        "below min cut",
        "reservations",
        {"warehouse": "WH1", "sku": "FABRIC", "quantity": 0.5},
        422,
        "quantity",
    ),
    (
        "nothing at source",
        "moves",
        {
            "warehouse": "WH1",
            "from_location": "A2",
            "to_location": "A1",
            "sku": "WIDGET",
            "quantity": 1,
        },
        409,
        "lines",
    ),
    (
        "unknown field",
        "moves",
        {
            "warehouse": "WH1",
            "from_location": "A1",
            "to_location": "A2",
            "sku": "WIDGET",
            "quantity": 1,
            "colour": "red",
        },
        422,
        "body.colour",
    ),
    (
        "no reason",
        "adjustments",
        {**RECEIPT, "sku": "WIDGET", "delta": 1, "reason": ""},
        422,
        "body.reason",
    ),
]


@pytest.mark.parametrize(
    ("route", "body", "status", "field"),
    [case[1:] for case in BAD_INPUT],
    ids=[case[0] for case in BAD_INPUT],
)
async def test_bad_input_is_refused_and_changes_nothing(
    api: httpx.AsyncClient,
    stocked: TenantKeys,
    route: str,
    body: dict[str, Any],
    status: int,
    field: str,
) -> None:
    before = await snapshot(api, stocked)
    response = await api.post(
        f"/v1/inventory/{route}", json=body, headers={**stocked.auth(Role.WMS), **key()}
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    named = problem.get("field") or [e["field"] for e in problem.get("errors", [])]
    assert field in named if isinstance(named, list) else named == field
    assert await snapshot(api, stocked) == before


async def test_a_serial_moved_from_where_it_is_not_is_a_shortage_and_changes_nothing(
    api: httpx.AsyncClient, stocked: TenantKeys
) -> None:
    assert (await receive(api, stocked, "PHONE", 1, serials=["S1"])).status_code == 201
    before = await snapshot(api, stocked)
    body = {
        "warehouse": "WH1",
        "from_location": "A2",
        "to_location": "A1",
        "sku": "PHONE",
        "quantity": 1,
        "serials": ["S1"],
    }
    response = await api.post(
        "/v1/inventory/moves", json=body, headers={**stocked.auth(Role.WMS), **key()}
    )
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"] == "urn:oms:problem:insufficient-stock"
    shortages = [
        (x["sku"], x["location"], x["requested"], x["available"]) for x in problem["shortages"]
    ]
    assert shortages == [("PHONE", "A2", 1, 0)]
    assert await snapshot(api, stocked) == before


async def test_roles_and_tenants_on_stock(
    api: httpx.AsyncClient, stocked: TenantKeys, other_tenant: TenantKeys
) -> None:
    body = {"warehouse": "WH1", "sku": "WIDGET", "quantity": 1}
    for role in (Role.VIEWER, Role.OMS):
        denied = await api.post(
            "/v1/inventory/reservations", json=body, headers={**stocked.auth(role), **key()}
        )
        assert denied.status_code == 403
    reserved = await api.post(
        "/v1/inventory/reservations", json=body, headers={**stocked.auth(Role.ADMIN), **key()}
    )
    assert reserved.status_code == 201
    stranger = {**other_tenant.auth(Role.ADMIN), **key()}
    foreign = await api.post(
        f"/v1/inventory/reservations/{reserved.json()['id']}/release", headers=stranger
    )
    assert foreign.status_code == 404
    assert foreign.json()["field"] == "reservation_id"
    assert (await api.get("/v1/inventory/balances", headers=stranger)).json()["items"] == []
    assert (await api.get("/v1/inventory/movements", headers=stranger)).json()["items"] == []
    unknown = await api.get("/v1/inventory/availability?sku=WIDGET", headers=stranger)
    assert unknown.status_code == 404


async def test_a_short_reservation_explains_itself_in_display_units(
    api: httpx.AsyncClient, stocked: TenantKeys
) -> None:
    response = await api.post(
        "/v1/inventory/reservations",
        json={"warehouse": "WH1", "sku": "FABRIC", "quantity": 3},
        headers={**stocked.auth(Role.WMS), **key()},
    )
    assert response.json()["detail"] == (
        "not enough stock: line 0: FABRIC at WH1 needs 3 yd, 2.75 yd available"
    )


async def test_totals_too_large_for_the_database_are_422_and_change_nothing(
    api: httpx.AsyncClient, stocked: TenantKeys
) -> None:
    wms = stocked.auth(Role.WMS)
    huge = {"sku": "HUGE", "name": "micro units", "uom": {"base_units_per_unit": 1000000}}
    assert (await api.post("/v1/items", json=huge, headers=wms)).status_code == 201
    before = await snapshot(api, stocked)
    body = {
        "warehouse": "WH1",
        "location": "A1",
        "lines": [{"sku": "HUGE", "quantity": 999999999999}] * 10,
    }
    response = await api.post("/v1/inventory/receipts", json=body, headers={**wms, **key()})
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "urn:oms:problem:value-out-of-range"
    assert await snapshot(api, stocked) == before


@pytest.mark.parametrize(
    "path",
    [
        "/v1/items?cursor={}",
        "/v1/inventory/balances?cursor={}",
        "/v1/inventory/movements?cursor={}",
    ],
)
@pytest.mark.parametrize("value", ['{"a": 1}', '"text"', "99999999999999999999999", "[1]"])
async def test_forged_cursors_are_refused(
    api: httpx.AsyncClient, tenant: TenantKeys, path: str, value: str
) -> None:
    import base64

    cursor = base64.urlsafe_b64encode(value.encode()).decode()
    response = await api.get(path.format(cursor), headers=tenant.auth(Role.VIEWER))
    if response.status_code == 200:  # a value of the right shape is simply a position
        assert value == '"text"' and "items?" in path
    else:
        assert response.status_code == 422, response.text
        assert response.json()["field"] == "cursor"


async def test_malformed_json_and_long_codes_are_4xx(
    api: httpx.AsyncClient, stocked: TenantKeys
) -> None:
    wms = {**stocked.auth(Role.WMS), **key(), "content-type": "application/json"}
    malformed = await api.post("/v1/inventory/receipts", content=b'{"warehouse": ', headers=wms)
    assert malformed.status_code == 400
    assert malformed.json()["type"] == "urn:oms:problem:malformed-json"
    long_code = await api.post("/v1/warehouses", json={"code": "W" * 33, "name": "x"}, headers=wms)
    assert long_code.status_code == 422
    long_serial = await receive(api, stocked, "PHONE", 1, serials=["S" * 129])
    assert long_serial.status_code == 422
