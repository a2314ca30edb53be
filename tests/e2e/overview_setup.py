"""A tenant's busy day, set up through the API: what the overview counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from domain.roles import Role
from tests.conftest import TenantKeys, read_until, unique
from tests.e2e.inventory_setup import build_catalogue, key, receive


async def post(
    api: httpx.AsyncClient, tenant: TenantKeys, path: str, body: Any, role: Role = Role.WMS
) -> dict[str, Any]:
    response = await api.post(path, json=body, headers={**tenant.auth(role), **key()})
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


async def _order(api: httpx.AsyncClient, tenant: TenantKeys, sku: str, quantity: int) -> str:
    number = unique("SO")
    body = {
        "order_number": number,
        "customer_id": "C-1",
        "currency": "EUR",
        "lines": [{"line_id": "1", "sku": sku, "quantity": quantity}],
    }
    await post(api, tenant, "/v1/orders", body, Role.OMS)
    return number


async def busy_day(api: httpx.AsyncClient, tenant: TenantKeys) -> dict[str, str]:
    """One order waiting at WH1's queue, one backordered, a transfer in transit and a
    purchase order past its date (whose workflow raises a late_po alert)."""
    await build_catalogue(api, tenant)
    await post(api, tenant, "/v1/items", {"sku": "BACK", "name": "b", "backorder_policy": "allow"})
    assert (await receive(api, tenant, "WIDGET", 5)).status_code == 201
    queued, waiting = await _order(api, tenant, "WIDGET", 1), await _order(api, tenant, "BACK", 2)
    transfer = unique("TR")
    await post(
        api,
        tenant,
        "/v1/transfers",
        {
            "transfer_number": transfer,
            "from_warehouse": "WH1",
            "to_warehouse": "WH2",
            "lines": [{"sku": "WIDGET", "quantity": 2}],
        },
    )
    path = f"/v1/transfers/{transfer}"
    await read_until(api, tenant, path, lambda t: t.get("status") == "reserved")
    await post(api, tenant, f"{path}/ship", {"carrier": "DHL"})
    late = unique("PO")
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    await post(
        api,
        tenant,
        "/v1/purchase-orders",
        {
            "po_number": late,
            "supplier": "ACME",
            "warehouse": "WH2",
            "lines": [{"sku": "WIDGET", "quantity": 4, "expected_at": past}],
        },
    )
    await read_until(
        api, tenant, f"/v1/orders/{waiting}", lambda o: o.get("status") == "backordered"
    )
    await read_until(
        api,
        tenant,
        f"/v1/fulfillment-requests?order_number={queued}",
        lambda page: len(page.get("items", [])) == 1,
    )
    await read_until(api, tenant, "/v1/alerts?kind=late_po", lambda page: len(page["items"]) == 1)
    return {"queued": queued, "waiting": waiting, "transfer": transfer, "late": late}
