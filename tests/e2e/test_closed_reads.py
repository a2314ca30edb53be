"""A closed order, return or transfer stays readable after Temporal removed its run
(retention): the API answers from the projection, with what the run's own view said."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.returns_service import RETURN_VIEW
from contracts.orders import order_workflow_id
from contracts.returns import return_workflow_id
from contracts.transfers import transfer_workflow_id
from db.orders import projected_order
from db.returns import projected_return
from db.transfers import projected_transfer
from domain.roles import Role
from tests.conftest import TenantKeys, unique
from tests.e2e.inventory_setup import build_catalogue, key, receive
from tests.e2e.test_orders_api import ADDRESS, _fulfil_all, _until
from workflows.order.workflow import OrderWorkflow
from workflows.returns.workflow import ReturnWorkflow
from workflows.transfer.workflow import TransferWorkflow


async def _tenant_id(sessions: async_sessionmaker[AsyncSession], tenant: TenantKeys) -> int:
    async with sessions() as session:
        found = await session.scalar(
            text("SELECT id FROM tenants WHERE slug = :s"), {"s": tenant.slug}
        )
    return int(found)


async def _closed_view(client: Client, workflow_id: str, query: Any) -> Any:
    """The run's own view once it has closed (its result is its last state)."""
    handle = client.get_workflow_handle(workflow_id)
    await handle.result()
    return await handle.query(query)


async def _delete_run(client: Client, workflow_id: str) -> None:
    """What Temporal's retention does to a closed run; returns once it is gone (at
    once on the tests' dev server: see its dynamic config in conftest)."""
    await client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=workflow_id),
        )
    )
    for _ in range(200):
        try:
            await client.get_workflow_handle(workflow_id).describe()
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                return
            raise
        await asyncio.sleep(0.05)
    raise AssertionError(f"{workflow_id} was never deleted")


@pytest.fixture
async def shop(api: httpx.AsyncClient, tenant: TenantKeys, dev_worker: Worker) -> TenantKeys:
    await build_catalogue(api, tenant)
    assert (await receive(api, tenant, "WIDGET", 10)).status_code == 201
    assert (await receive(api, tenant, "FABRIC", 5)).status_code == 201
    return tenant


async def _shipped_order(api: httpx.AsyncClient, tenant: TenantKeys) -> str:
    number = unique("SO")
    lines = [
        {"line_id": "1", "sku": "WIDGET", "quantity": 2, "unit_price": 9.5},
        {"line_id": "2", "sku": "FABRIC", "quantity": 1.5, "unit_price": 12},
    ]
    body = {
        "order_number": number,
        "customer_id": "C-1",
        "currency": "EUR",
        "lines": lines,
        "ship_to": ADDRESS,
    }
    created = await api.post("/v1/orders", json=body, headers=tenant.auth(Role.OMS))
    assert created.status_code == 201, created.text
    await _until(api, tenant, number, "allocated")
    await _fulfil_all(api, tenant, number)
    await _until(api, tenant, number, "shipped")
    return number


async def test_a_shipped_order_reads_the_same_after_its_run_is_deleted(
    api: httpx.AsyncClient,
    shop: TenantKeys,
    dev_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    viewer = shop.auth(Role.VIEWER)
    tenant_id = await _tenant_id(sessions, shop)
    number = await _shipped_order(api, shop)
    workflow_id = order_workflow_id(tenant_id, number)
    live = await _closed_view(dev_env.client, workflow_id, OrderWorkflow.status)
    async with sessions() as session:
        assert await projected_order(session, tenant_id, number) == live
    before = await api.get(f"/v1/orders/{number}", headers=viewer)
    assert before.status_code == 200

    await _delete_run(dev_env.client, workflow_id)
    after = await api.get(f"/v1/orders/{number}", headers=viewer)
    assert after.status_code == 200, after.text
    assert after.json() == before.json()
    assert after.json()["status"] == "shipped" and after.json()["shipments"]
    assert (await api.get(f"/v1/orders/{unique('SO')}", headers=viewer)).status_code == 404


async def test_a_closed_return_reads_the_same_after_its_run_is_deleted(
    api: httpx.AsyncClient,
    shop: TenantKeys,
    dev_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    oms, wms, viewer = shop.auth(Role.OMS), shop.auth(Role.WMS), shop.auth(Role.VIEWER)
    tenant_id = await _tenant_id(sessions, shop)
    number = await _shipped_order(api, shop)
    rma = unique("RMA")
    body = {
        "rma_number": rma,
        "reason": "too long",
        "lines": [{"line_id": "2", "quantity": 0.5}, {"line_id": "1", "quantity": 1}],
    }
    created = await api.post(f"/v1/orders/{number}/returns", json=body, headers=oms)
    assert created.status_code == 201, created.text
    for step, role_body, headers in (
        ("approve", {"reason": "ok"}, oms),
        (
            "receive",
            {
                "warehouse": "WH1",
                "location": "A2",
                "lines": [
                    {"line_id": "2", "received": 0.5, "accepted": 0.25, "disposition": "restock"},
                    {"line_id": "1", "received": 1, "accepted": 1, "disposition": "restock"},
                ],
            },
            wms,
        ),
        ("close", None, oms),
    ):
        done = await api.post(f"/v1/returns/{rma}/{step}", json=role_body, headers=headers)
        assert done.status_code == 200, done.text
    workflow_id = return_workflow_id(tenant_id, rma)
    live = await _closed_view(dev_env.client, workflow_id, ReturnWorkflow.status)
    async with sessions() as session:
        projected = await projected_return(session, tenant_id, rma)
    assert RETURN_VIEW.validate_python(projected) == live
    before = await api.get(f"/v1/returns/{rma}", headers=viewer)

    await _delete_run(dev_env.client, workflow_id)
    after = await api.get(f"/v1/returns/{rma}", headers=viewer)
    assert after.status_code == 200, after.text
    assert after.json() == before.json()
    assert after.json()["status"] == "closed" and after.json()["refund"] is not None


async def test_a_completed_transfer_reads_the_same_after_its_run_is_deleted(
    api: httpx.AsyncClient,
    shop: TenantKeys,
    dev_env: WorkflowEnvironment,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    wms, viewer = shop.auth(Role.WMS), shop.auth(Role.VIEWER)
    tenant_id = await _tenant_id(sessions, shop)
    number = unique("TR")
    body = {
        "transfer_number": number,
        "from_warehouse": "WH1",
        "to_warehouse": "WH2",
        "lines": [{"sku": "FABRIC", "quantity": 1.5}],
    }
    created = await api.post("/v1/transfers", json=body, headers={**wms, **key()})
    assert created.status_code == 201, created.text
    path = f"/v1/transfers/{number}"
    for _ in range(200):
        if (await api.get(path, headers=viewer)).json()["status"] == "reserved":
            break
        await asyncio.sleep(0.05)
    receipt = {"location": "A1", "lines": [{"sku": "FABRIC", "received": 1.5}]}
    for step, step_body in (("ship", {"carrier": "DHL"}), ("receive", receipt)):
        done = await api.post(f"{path}/{step}", json=step_body, headers={**wms, **key()})
        assert done.status_code == 200, done.text
    workflow_id = transfer_workflow_id(tenant_id, number)
    live = await _closed_view(dev_env.client, workflow_id, TransferWorkflow.status)
    async with sessions() as session:
        assert await projected_transfer(session, tenant_id, number) == live
    before = await api.get(path, headers=viewer)

    await _delete_run(dev_env.client, workflow_id)
    after = await api.get(path, headers=viewer)
    assert after.status_code == 200, after.text
    assert after.json() == before.json()
    assert after.json()["status"] == "completed" and after.json()["receipts"]
