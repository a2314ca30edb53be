"""GET /v1/overview on a tenant with a busy day set up through the API: each figure is
the size of the list it summarizes, another tenant's data is not counted, a bad
`since` is refused."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
from temporalio.worker import Worker

from domain.roles import Role
from tests.conftest import TenantKeys
from tests.e2e.overview_setup import busy_day

PROBLEM = "application/problem+json"


async def test_the_overview_counts_what_each_list_holds_for_the_callers_tenant_only(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys, dev_worker: Worker
) -> None:
    before = datetime.now(UTC)
    made = await busy_day(api, tenant)
    viewer = tenant.auth(Role.VIEWER)
    response = await api.get("/v1/overview", headers=viewer)
    assert response.status_code == 200, response.text
    overview = response.json()

    today = datetime.combine(before.date(), datetime.min.time(), tzinfo=UTC)
    assert datetime.fromisoformat(overview["since"]) == today
    statuses = [
        (await api.get(f"/v1/orders/{made[n]}", headers=viewer)).json()["status"]
        for n in ("queued", "waiting")
    ]
    assert overview["orders_by_status"] == dict(Counter(statuses))
    assert "backordered" in overview["orders_by_status"]
    [wh1] = overview["requests_waiting"]
    assert (wh1["warehouse"], wh1["requests"]) == ("WH1", 1)
    assert before <= datetime.fromisoformat(wh1["oldest_created_at"])
    assert datetime.fromisoformat(wh1["oldest_created_at"]) <= datetime.fromisoformat(
        overview["as_of"]
    )
    backorders = (await api.get("/v1/backorders", headers=viewer)).json()["items"]
    assert overview["backordered_lines"] == len(backorders) == 1
    alerts = (await api.get("/v1/alerts", headers=viewer)).json()["items"]
    assert overview["open_alerts_by_kind"] == dict(Counter(a["kind"] for a in alerts))
    assert overview["open_alerts_by_kind"]["late_po"] == 1
    in_transit = (await api.get("/v1/transfers?status=in_transit", headers=viewer)).json()
    assert [t["transfer_number"] for t in in_transit["items"]] == [made["transfer"]]
    assert overview["transfers_by_status"] == {"in_transit": 1}
    assert overview["late_purchase_orders"] == 1

    # Orders created after a later `since` are none; the other figures are the same.
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    since = await api.get("/v1/overview", params={"since": later}, headers=viewer)
    assert since.status_code == 200 and since.json()["orders_by_status"] == {}
    assert since.json()["backordered_lines"] == 1

    # Another tenant sees none of this tenant's data.
    empty = (await api.get("/v1/overview", headers=other_tenant.auth(Role.WMS))).json()
    assert {k: v for k, v in empty.items() if k not in ("since", "as_of")} == {
        "orders_by_status": {},
        "requests_waiting": [],
        "backordered_lines": 0,
        "open_alerts_by_kind": {},
        "transfers_by_status": {},
        "late_purchase_orders": 0,
    }


async def test_a_since_that_is_not_a_time_with_a_zone_is_refused_with_422(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    for bad in ("yesterday", "2026-12-02T00:00:00", "2026-13-01T00:00:00Z"):
        response = await api.get(
            "/v1/overview", params={"since": bad}, headers=tenant.auth(Role.VIEWER)
        )
        assert response.status_code == 422, (bad, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert "since" in response.text
    assert (await api.get("/v1/overview")).status_code == 401
