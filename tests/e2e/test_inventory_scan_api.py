"""`POST /v1/inventory/scan` (admin) starts the tenant's scan on the worker; its
alerts are listed by GET /v1/alerts and an expired lot leaves availability."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.roles import Role
from tests.conftest import TenantKeys
from tests.e2e.inventory_setup import build_catalogue, receive


async def test_an_admin_starts_a_scan_that_alerts_and_takes_an_expired_lot_out_of_availability(
    api: httpx.AsyncClient, tenant: TenantKeys, dev_env: WorkflowEnvironment, dev_worker: Worker
) -> None:
    await build_catalogue(api, tenant)
    today = datetime.now(UTC).date()
    for lot, expires_on in (("OLD", today - timedelta(days=1)), ("SOON", today + timedelta(3))):
        response = await receive(api, tenant, "MILK", 5, lot=lot, expires_at=str(expires_on))
        assert response.status_code == 201, response.text

    for role in (Role.VIEWER, Role.WMS):
        refused = await api.post("/v1/inventory/scan", headers=tenant.auth(role))
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"

    started = await api.post("/v1/inventory/scan", headers=tenant.auth(Role.ADMIN))
    assert started.status_code == 202, started.text
    workflow_id = started.json()["workflow_id"]
    assert workflow_id.startswith("inventory-scan-")
    result = await dev_env.client.get_workflow_handle(workflow_id).result()
    assert len(result["expired_lots"]) == 1

    viewer = tenant.auth(Role.VIEWER)
    alerts = (await api.get("/v1/alerts", headers=viewer)).json()["items"]
    assert sorted((a["kind"], a["reference_id"]) for a in alerts) == [
        ("expired", "MILK/OLD@WH1"),
        ("expiring", "MILK/SOON@WH1"),
    ]
    availability = (await api.get("/v1/inventory/availability?sku=MILK", headers=viewer)).json()
    assert availability["available"] == 5  # OLD's 5 are out
    [level] = (await api.get("/v1/inventory/balances?sku=MILK", headers=viewer)).json()["items"]
    assert (level["on_hand"], level["held"], level["available"]) == (10, 5, 5)
    [old] = [place for place in level["locations"] if place["lot"] == "OLD"]
    assert (old["lot_status"], old["available"]) == ("expired", 0)
