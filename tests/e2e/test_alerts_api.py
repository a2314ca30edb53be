"""GET /v1/alerts names what an alert is about (SKU, warehouse, lot, order) and lists
open, resolved or all alerts."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.orders import order_workflow_id
from db.alerts import NewAlert, raise_alert, staging_alert
from domain.roles import Role
from tests.conftest import TenantKeys
from tests.e2e.replenishment_setup import tenant_id as tenant_id_of


async def test_alerts_name_their_sku_warehouse_lot_or_order_and_filter_by_status(
    api: httpx.AsyncClient, tenant: TenantKeys, sessions: async_sessionmaker[AsyncSession]
) -> None:
    tenant_id = await tenant_id_of(sessions, tenant)

    def alert(kind: str, key: str, reference_type: str, reference_id: str) -> NewAlert:
        return NewAlert(
            tenant_id=tenant_id,
            key=key,
            kind=kind,
            reference_type=reference_type,
            reference_id=reference_id,
            message=f"{kind} here",
        )

    workflow = order_workflow_id(tenant_id, "SO/7")
    for new in (
        alert("low_stock", "low_stock:MUG:WH1", "stock_level", "MUG@WH1"),
        alert("expiring", "expiring:MI/LK:WH2:L-1", "lot", "MI/LK/L-1@WH2"),
        staging_alert(tenant_id, "WH3"),
        alert("activity_failing", f"activity_failing:{workflow}:x", "workflow", workflow),
        alert("webhook_failing", "webhook_failing:9", "webhook_endpoint", "9"),
    ):
        await raise_alert(sessions, new)

    viewer = tenant.auth(Role.VIEWER)
    listed = (await api.get("/v1/alerts", headers=viewer)).json()["items"]
    subjects = {a["kind"]: (a["sku"], a["warehouse"], a["lot"], a["order_number"]) for a in listed}
    assert subjects == {
        "low_stock": ("MUG", "WH1", None, None),
        "expiring": ("MI/LK", "WH2", "L-1", None),
        "setup": (None, "WH3", None, None),
        "activity_failing": (None, None, None, "SO/7"),
        "webhook_failing": (None, None, None, None),
    }

    low = next(a for a in listed if a["kind"] == "low_stock")
    resolved = await api.post(
        f"/v1/alerts/{low['id']}/resolve",
        json={"resolution": "counted"},
        headers=tenant.auth(Role.WMS),
    )
    assert resolved.status_code == 200, resolved.text
    done = (await api.get("/v1/alerts?status=resolved", headers=viewer)).json()["items"]
    assert [(a["id"], a["resolution"]) for a in done] == [(low["id"], "counted")]
    still_open = (await api.get("/v1/alerts?status=open", headers=viewer)).json()["items"]
    assert low["id"] not in [a["id"] for a in still_open] and len(still_open) == 4
    everything = (await api.get("/v1/alerts?status=all", headers=viewer)).json()["items"]
    assert len(everything) == 5
    refused = await api.get("/v1/alerts?status=closed", headers=viewer)
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
