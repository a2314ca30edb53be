"""A purchase order from the reorder suggestions in one call: its lines are the
suggested quantities expected after their lead times; the suggestion drops once the
PO is incoming; a repeat answers with the PO; nothing to order is a 422."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from typing import Any

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
    # The PO's first step records it and raises `incoming` (the 201 comes at its start).
    row: dict[str, Any] = {}
    for _ in range(200):
        widget = await api.get(f"{SUGGESTIONS}?sku=WIDGET&warehouse=WH1&all=true", headers=viewer)
        row = widget.json()["items"][0]
        if row["incoming"]:
            break
        await asyncio.sleep(0.05)
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

    refused_numbers = []
    for bad, field in (
        ({"supplier": "NOBODY"}, "supplier"),
        ({"skus": ["WIDGET"]}, "skus.0"),  # incoming covers it now
        ({"skus": ["NOSUCH"]}, "skus.0"),
        ({"warehouse": "NOPE"}, "warehouse"),
    ):
        refused_numbers.append(unique("PO"))
        refused = await api.post(
            FROM_SUGGESTIONS,
            json={"po_number": refused_numbers[-1], "supplier": "ACME", "warehouse": "WH1", **bad},
            headers=wms,
        )
        assert (refused.status_code, refused.headers["content-type"]) == (422, PROBLEM), bad
        assert refused.json()["field"] == field, refused.text
    refused_numbers.append(unique("PO"))
    forbidden = await api.post(
        FROM_SUGGESTIONS, json={**body, "po_number": refused_numbers[-1]}, headers=viewer
    )
    assert forbidden.status_code == 403
    for refused_number in refused_numbers:  # the refusals started nothing
        gone = await api.get(f"/v1/purchase-orders/{refused_number}", headers=viewer)
        assert gone.status_code == 404, gone.text
    await assert_reconciled(sessions, tenant)
