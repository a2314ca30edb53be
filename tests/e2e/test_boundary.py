"""Boundary hygiene, driven by the API's own OpenAPI document: a control character in
any string, a number with more decimals than allowed in any numeric field, an
oversized map or body — each a 422 (or 413) problem+json naming the field, and the
tenant's data unchanged."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from domain.roles import Role
from tests.conftest import TenantKeys
from tests.e2e.inventory_setup import build_catalogue, key
from tests.e2e.openapi_walk import EXACT, Operation, field_name, operations, raw_json

PROBLEM = "application/problem+json"
NUL = "a\x00b"
THIRTY_DECIMALS = "1.000000000000000000000000000001"
JSON = {"content-type": "application/json"}


async def _operations(api: httpx.AsyncClient) -> list[Operation]:
    document = (await api.get("/openapi.json")).json()
    return [op for op in operations(document) if op.spec.get("security")]


async def _data(api: httpx.AsyncClient, tenant: TenantKeys) -> dict[str, Any]:
    """What the tenant holds, as the API lists it."""
    admin = tenant.auth(Role.ADMIN)
    lists = (
        "/v1/items",
        "/v1/warehouses",
        "/v1/orders",
        "/v1/returns",
        "/v1/transfers",
        "/v1/inventory/movements",
        "/v1/inventory/balances",
        "/v1/api-keys",
    )
    return {path: (await api.get(path, headers=admin)).json()["items"] for path in lists}


def _names_field(response: httpx.Response, field: str) -> bool:
    """The problem names `field` (a map's key: a field under it)."""
    assert response.headers["content-type"] == PROBLEM, response.text
    problem = response.json()
    named = {e["field"] for e in problem.get("errors", [])} | {problem.get("field") or ""}
    if field.endswith(".<key>"):
        return any(name.startswith(field.removesuffix("<key>")) for name in named)
    return field in named or field.removeprefix("body.") in named


async def _send(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    op: Operation,
    *,
    url: str | None = None,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
) -> httpx.Response:
    if content is None and op.body_schema() is not None:
        content = raw_json(op.sample(op.body_schema() or {}), "1")
    return await api.request(
        op.method,
        url or op.url(),
        params=params,
        content=content,
        headers={**tenant.auth(Role.ADMIN), **JSON, **key(), **(headers or {})},
    )


async def test_a_nul_in_any_string_of_any_operation_is_a_422_naming_it_and_changes_nothing(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    before = await _data(api, tenant)
    refused: list[str] = []
    for op in await _operations(api):
        where = f"{op.method} {op.path}"
        for at in op.places({"string", "key"}):
            body = raw_json(op.body_with(at, NUL), "1")
            response = await _send(api, tenant, op, content=body)
            assert response.status_code == 422, (where, at, response.text)
            assert _names_field(response, field_name(at)), (where, at, response.text)
            refused.append(f"{where} {field_name(at)}")
        for parameter in op.parameters:
            schema = op.resolve(parameter["schema"])
            options = [op.resolve(s) for s in schema.get("anyOf", [schema])]
            if not any(s.get("type") == "string" and "enum" not in s for s in options):
                continue
            name, place = parameter["name"], parameter["in"]
            if place == "path":
                response = await _send(api, tenant, op, url=op.url({name: quote(NUL)}))
            elif place == "query":
                response = await _send(api, tenant, op, params={name: NUL})
            else:
                response = await _send(api, tenant, op, headers={name: NUL})
            assert response.status_code == 422, (where, name, response.text)
            assert _names_field(response, f"{place}.{name}"), (where, name, response.text)
            refused.append(f"{where} {place}.{name}")
    assert len(refused) > 100  # every operation's strings, not a handful
    assert await _data(api, tenant) == before


async def test_thirty_decimals_in_any_number_of_any_body_is_a_422_naming_it(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    before = await _data(api, tenant)
    checked = 0
    for op in await _operations(api):
        for at in op.places({"number"}):
            body = raw_json(op.body_with(at, EXACT), THIRTY_DECIMALS)
            response = await _send(api, tenant, op, content=body)
            assert response.status_code == 422, (op.path, at, response.text)
            assert _names_field(response, field_name(at)), (op.path, at, response.text)
            checked += 1
    assert checked >= 20
    assert await _data(api, tenant) == before


async def test_the_thirty_decimal_quantity_is_refused_on_an_order_line_and_a_receipt(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await build_catalogue(api, tenant)
    oms, wms = tenant.auth(Role.OMS), {**tenant.auth(Role.WMS), **JSON}
    receipt = '{"warehouse": "WH1", "location": "A1", "lines": [{"sku": "WIDGET", "quantity": %s}]}'
    order = (
        '{"order_number": "SO-X", "customer_id": "C", "currency": "EUR", '
        '"lines": [{"line_id": "1", "sku": "WIDGET", "quantity": %s}]}'
    )
    refused = await api.post(
        "/v1/inventory/receipts", content=receipt % THIRTY_DECIMALS, headers={**wms, **key()}
    )
    assert refused.status_code == 422 and _names_field(refused, "body.lines.0.quantity")
    refused = await api.post("/v1/orders", content=order % THIRTY_DECIMALS, headers={**oms, **JSON})
    assert refused.status_code == 422 and _names_field(refused, "body.lines.0.quantity")
    # within the six decimals a field allows, but finer than the item's increment (1)
    finer = await api.post(
        "/v1/inventory/receipts", content=receipt % "1.000001", headers={**wms, **key()}
    )
    assert finer.status_code == 422 and finer.json()["field"] == "lines.0.quantity"
    assert (await api.get("/v1/inventory/movements", headers=oms)).json()["items"] == []
    assert (await api.get("/v1/orders", headers=oms)).json()["items"] == []
    # exact quantities still pass, and answers carry them as JSON numbers
    fabric = receipt.replace("WIDGET", "FABRIC") % "2.25"
    received = await api.post("/v1/inventory/receipts", content=fabric, headers={**wms, **key()})
    assert received.status_code == 201, received.text
    assert '"quantity":2.25' in received.text.replace(" ", "")
    whole = await api.post(
        "/v1/inventory/receipts", content=receipt % "3.0", headers={**wms, **key()}
    )
    assert whole.status_code == 201 and '"quantity":3,' in whole.text.replace(" ", "")


def _order(ship_to: dict[str, Any]) -> dict[str, Any]:
    return {
        "order_number": "SO-MAP",
        "customer_id": "C",
        "currency": "EUR",
        "ship_to": {"name": "Ada", "lines": ["Main St 1"], "city": "X", "country": "DE", **ship_to},
        "lines": [{"line_id": "1", "sku": "WIDGET", "quantity": 1}],
    }


async def test_an_oversized_or_unknown_ship_to_field_is_a_422_naming_it(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    oms = tenant.auth(Role.OMS)
    two_mb = await api.post("/v1/orders", json=_order({"name": "x" * 2_000_000}), headers=oms)
    assert two_mb.status_code == 422 and _names_field(two_mb, "body.ship_to.name")
    long_line = await api.post("/v1/orders", json=_order({"lines": ["y" * 201]}), headers=oms)
    assert long_line.status_code == 422 and _names_field(long_line, "body.ship_to.lines.0")
    postal = await api.post("/v1/orders", json=_order({"postal_code": "1" * 13}), headers=oms)
    assert postal.status_code == 422 and _names_field(postal, "body.ship_to.postal_code")
    unknown = await api.post("/v1/orders", json=_order({"street": "Main St"}), headers=oms)
    assert unknown.status_code == 422 and _names_field(unknown, "body.ship_to.street")
    assert (await api.get("/v1/orders", headers=oms)).json()["items"] == []


async def test_a_control_character_is_named_with_its_code_point_and_position(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = {**_order({"lines": ["Main St\x07"]}), "customer_id": "a\x00b"}
    response = await api.post("/v1/orders", json=body, headers=tenant.auth(Role.OMS))
    assert response.status_code == 422, response.text
    messages = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert messages["body.customer_id"] == (
        "must not contain control characters (found U+0000 at position 1)"
    )
    assert "found U+0007 at position 7" in messages["body.ship_to.lines.0"]


async def test_a_lone_surrogate_in_a_value_is_a_422_that_can_be_written(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    oms = {**tenant.auth(Role.OMS), **JSON}
    order = json.dumps(_order({"city": "v"}))
    response = await api.post("/v1/orders", content=order.replace('"v"', '"\\udfff"'), headers=oms)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "body.ship_to.city"


async def test_a_body_over_the_size_limit_is_413_before_it_is_parsed(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    huge = b'{"name": "' + b"x" * (5 * 1024 * 1024) + b'"}'  # over the 4 MiB default
    response = await api.post("/v1/items", content=huge, headers={**tenant.auth(Role.WMS), **JSON})
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"] == "urn:oms:problem:content-too-large"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it comes
        for _ in range(5):
            yield b"x" * (1024 * 1024)

    streamed = await api.post(
        "/v1/items", content=chunks(), headers={**tenant.auth(Role.WMS), **JSON}
    )
    assert streamed.status_code == 413
    assert streamed.json()["type"] == "urn:oms:problem:content-too-large"


@pytest.mark.parametrize("text", ["NaN", "Infinity", "1e999999999"])
async def test_numbers_json_cannot_hold_exactly_are_refused_not_booked(
    api: httpx.AsyncClient, tenant: TenantKeys, text: str
) -> None:
    body = f'{{"sku": "N1", "name": "n", "reorder_point": {text}}}'
    response = await api.post("/v1/items", content=body, headers={**tenant.auth(Role.WMS), **JSON})
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"] == PROBLEM
    assert (await api.get("/v1/items", headers=tenant.auth(Role.WMS))).json()["items"] == []


async def test_openapi_documents_every_problem_a_route_can_answer(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]
    place = paths["/v1/orders"]["post"]["responses"]
    assert {"200", "201", "400", "401", "403", "409", "413", "422", "503"} <= place.keys()
    assert "Retry-After" in place["503"]["headers"]
    assert "unavailable" in place["503"]["description"]
    assert {"400", "422"} <= paths["/v1/inventory/receipts"]["post"]["responses"].keys()
    assert "504" in paths["/v1/orders/{order_number}/cancel"]["post"]["responses"]
    assert (
        "timeout"
        in paths["/v1/orders/{order_number}/cancel"]["post"]["responses"]["504"]["description"]
    )
    for path, item in paths.items():
        for method, operation in item.items():
            for status, answer in operation["responses"].items():
                if status[0] in "45":
                    assert list(answer["content"]) == [PROBLEM], (method, path, status)


async def test_openapi_says_which_routes_require_an_idempotency_key(
    api: httpx.AsyncClient,
) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]

    def key_of(path: str) -> dict[str, Any]:
        [key] = [p for p in paths[path]["post"]["parameters"] if p["name"] == "Idempotency-Key"]
        assert isinstance(key, dict)
        return key

    for stock_change in ("/v1/inventory/receipts", "/v1/inventory/adjustments"):
        key = key_of(stock_change)
        assert key["required"] is True
        assert key["schema"]["type"] == "string" and "x-oms-required" not in key["schema"]
    assert key_of("/v1/items")["required"] is False  # a creation makes its own key
    assert key_of("/v1/orders/{order_number}/cancel")["required"] is False


async def test_a_stock_change_without_its_idempotency_key_is_400_and_changes_nothing(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await build_catalogue(api, tenant)
    line = {"sku": "WIDGET", "quantity": 1}
    receipt = {"warehouse": "WH1", "location": "A-01", "lines": [line]}
    response = await api.post("/v1/inventory/receipts", json=receipt, headers=tenant.auth(Role.WMS))
    assert response.status_code == 400
    assert response.json()["type"] == "urn:oms:problem:idempotency-key-required"
    moves = await api.get("/v1/inventory/movements?sku=WIDGET", headers=tenant.auth(Role.WMS))
    assert moves.json()["items"] == []
