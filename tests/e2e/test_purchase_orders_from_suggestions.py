"""A purchase order from the reorder suggestions in one call: its lines are the
suggested quantities expected after their lead times; the suggestion drops once the
PO is incoming; a repeat answers with the PO; nothing to order is a 422."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.worker import Worker

from domain.roles import Role
from tests.conftest import TenantKeys, unique
from tests.e2e.replenishment_setup import assert_reconciled
from tests.e2e.test_replenishment_api import SUGGESTIONS, seeded

FROM_SUGGESTIONS = "/v1/purchase-orders/from-suggestions"
PROBLEM = "application/problem+json"


async def test_a_po_from_suggestions_orders_what_they_say_once(
    api: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    tenant: TenantKeys,
    dev_worker: Worker,
) -> None:
    await seeded(api, sessions, tenant)
    wms, viewer = tenant.auth(Role.WMS), tenant.auth(Role.VIEWER)
    today = datetime.combine(datetime.now(UTC).date(), time(), UTC)
    number = unique("PO")
    body = {"po_number": number, "supplier": "ACME", "warehouse": "WH1"}

    created = await api.post(FROM_SUGGESTIONS, json=body, headers=wms)

    # WIDGET's default supplier is ACME: 48 ea (hand computed in test_replenishment_api),
    # expected after ACME's 10 days; FABRIC has no default supplier: not on this PO.
    assert created.status_code == 201, created.text
    po = created.json()
    assert (po["po_number"], po["supplier"], po["warehouse"], po["status"]) == (
        number,
        "ACME",
        "WH1",
        "open",
    )
    assert [(x["sku"], x["ordered"], x["outstanding"]) for x in po["lines"]] == [("WIDGET", 48, 48)]
    assert datetime.fromisoformat(po["lines"][0]["expected_at"]) == today + timedelta(days=10)
    widget = await api.get(f"{SUGGESTIONS}?sku=WIDGET&warehouse=WH1&all=true", headers=viewer)
    row = widget.json()["items"][0]
    assert (row["incoming"], row["suggested_quantity"]) == (48, 0)  # 22 + 48 covers 55

    again = await api.post(FROM_SUGGESTIONS, json=body, headers=wms)
    assert again.status_code == 200 and again.json()["lines"] == po["lines"]

    fabric = await api.post(
        FROM_SUGGESTIONS,
        json={
            "po_number": unique("PO"),
            "supplier": "MILLS",
            "warehouse": "WH1",
            "skus": ["FABRIC"],
        },
        headers=wms,
    )
    assert fabric.status_code == 201, fabric.text
    line = fabric.json()["lines"][0]
    assert (line["sku"], line["ordered"]) == ("FABRIC", 45)  # min/max: 50 - 5 yd
    assert datetime.fromisoformat(line["expected_at"]) == today + timedelta(days=7)  # default

    for bad, field in (
        ({"supplier": "NOBODY"}, "supplier"),
        ({"skus": ["WIDGET"]}, "skus.0"),  # incoming covers it now
        ({"skus": ["NOSUCH"]}, "skus.0"),
        ({"warehouse": "NOPE"}, "warehouse"),
    ):
        refused = await api.post(
            FROM_SUGGESTIONS,
            json={"po_number": unique("PO"), "supplier": "ACME", "warehouse": "WH1", **bad},
            headers=wms,
        )
        assert (refused.status_code, refused.headers["content-type"]) == (422, PROBLEM), bad
        assert refused.json()["field"] == field, refused.text
    forbidden = await api.post(FROM_SUGGESTIONS, json={**body, "po_number": "X"}, headers=viewer)
    assert forbidden.status_code == 403
    listed = (await api.get("/v1/purchase-orders", headers=viewer)).json()["items"]
    assert len(listed) == 2  # the refusals recorded nothing
    await assert_reconciled(sessions, tenant)
