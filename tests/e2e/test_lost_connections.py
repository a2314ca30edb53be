"""The API's calls to Temporal survive a connection closed under them (as the
frontend closes each at its maximum age): an order placed, read and driven to
shipped through a relay that cuts every connection to Temporal before each request
answers as it would without the cuts. The SDK asks a workflow-service call again on
such a failure (CANCELLED, UNKNOWN "transport error"); its health check it does
not — that the readiness probe does (test_readiness.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.resources import TemporalConnection
from domain.roles import Role
from settings import Settings
from tests.conftest import TenantKeys, unique
from tests.e2e.cutting_proxy import CuttingProxy, api_for
from tests.e2e.inventory_setup import build_catalogue, receive

READS = 30


async def test_an_order_lives_through_connections_cut_before_every_call(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    dev_worker: Worker,
    dev_env: WorkflowEnvironment,
    settings: Settings,
) -> None:
    await build_catalogue(api, tenant)
    assert (await receive(api, tenant, "WIDGET", 5)).status_code == 201
    oms, wms, viewer = (tenant.auth(r) for r in (Role.OMS, Role.WMS, Role.VIEWER))
    number = unique("CUT")
    line = {"line_id": "1", "sku": "WIDGET", "quantity": 2, "unit_price": "9.50"}
    order = {"order_number": number, "customer_id": "C-1", "currency": "EUR", "lines": [line]}
    answers: list[int] = []

    async with CuttingProxy(dev_env.client.service_client.config.target_host) as proxy:
        relayed = settings.model_copy(update={"temporal_address": proxy.address})
        async with api_for(relayed, TemporalConnection(relayed)) as client:

            async def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
                proxy.cut()
                response = await client.request(method, path, **kwargs)
                answers.append(response.status_code)
                return response

            assert (await call("POST", "/v1/orders", json=order, headers=oms)).status_code == 201
            body: dict[str, Any] = {}
            for _ in range(200):  # each read of the live order is a query
                body = (await call("GET", f"/v1/orders/{number}", headers=viewer)).json()
                if body.get("status") == "allocated":
                    break
                await asyncio.sleep(0.1)
            assert body.get("status") == "allocated", body
            [request] = body["fulfillment_requests"]
            steps = f"/v1/fulfillment-requests/{request['id']}"
            picks = [{"line_id": "1", "quantity": 2}]
            await call("POST", f"{steps}/accept", headers=wms)  # each step an update
            await call("POST", f"{steps}/pick", headers=wms, json={"lines": picks})
            package = {"package_number": "P1", "lines": picks}
            await call("POST", f"{steps}/pack", headers=wms, json={"packages": [package]})
            for _ in range(READS):  # the order runs: each read a query
                read = await call("GET", f"/v1/orders/{number}", headers=viewer)
                assert read.json()["status"] == "in_fulfillment"
            shipped = await call("POST", f"{steps}/ship", headers=wms, json={"carrier": "UPS"})
        cut = proxy.cut_connections

    assert [code for code in answers if code >= 300] == []
    assert cut >= len(answers) - 1  # every call but the first after a cut connection
    assert shipped.json()["status"] == "shipped"
    assert shipped.json()["lines"][0]["shipped"] == 2
