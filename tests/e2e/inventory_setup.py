"""Build a tenant's catalogue through the API (the catalogue routes under test)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from domain.roles import Role
from tests.conftest import TenantKeys

ITEMS: list[dict[str, Any]] = [
    {"sku": "WIDGET", "name": "Widget"},
    {
        "sku": "FABRIC",
        "name": "Fabric",
        "uom": {"unit": "yd", "base_units_per_unit": 4, "min_increment": 0.25, "min_cut": 1},
    },
    {
        "sku": "MILK",
        "name": "Milk",
        "track_lot": True,
        "track_expiry": True,
        "default_strategy": "fefo",
    },
    {"sku": "PHONE", "name": "Phone", "track_serial": True},
]


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


async def build_catalogue(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    wms = tenant.auth(Role.WMS)
    for item in ITEMS:
        response = await api.post("/v1/items", json=item, headers=wms)
        assert response.status_code == 201, response.text
    locations = [
        {"code": "A1", "type": "bin"},
        {"code": "A2", "type": "bin"},
        {"code": "STAGE", "type": "staging"},
    ]
    for code, priority in (("WH1", 1), ("WH2", 2)):
        body = {"code": code, "name": code, "priority": priority, "locations": locations}
        response = await api.post("/v1/warehouses", json=body, headers=wms)
        assert response.status_code == 201, response.text


async def receive(
    api: httpx.AsyncClient, tenant: TenantKeys, sku: str, quantity: float, **line: Any
) -> httpx.Response:
    body = {
        "warehouse": line.pop("warehouse", "WH1"),
        "location": line.pop("location", "A1"),
        "lines": [{"sku": sku, "quantity": quantity, **line}],
    }
    headers = {**tenant.auth(Role.WMS), **key()}
    return await api.post("/v1/inventory/receipts", json=body, headers=headers)


async def snapshot(api: httpx.AsyncClient, tenant: TenantKeys) -> tuple[Any, Any]:
    """Balances and ledger as the API shows them: to prove nothing changed."""
    viewer = tenant.auth(Role.VIEWER)
    balances = (await api.get("/v1/inventory/balances", headers=viewer)).json()
    ledger = (await api.get("/v1/inventory/movements", headers=viewer)).json()
    return balances, ledger
