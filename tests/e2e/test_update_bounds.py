"""A step (a Temporal update) on an order that cannot make progress answers 504
problem+json within OMS_UPDATE_TIMEOUT_SECONDS, saying how far the step got and the
order's last known status; it never hangs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from api.resources import Resources
from contracts.orders import OrderView, ReserveLinesInput, ReserveLinesResult
from domain.roles import Role
from tests.conftest import TenantKeys, unique
from tests.e2e.inventory_setup import build_catalogue
from workflows.order.workflow import OrderWorkflow

PROBLEM = "application/problem+json"
BOUND = 2.0  # seconds


@pytest.fixture
async def impatient(resources: Resources) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The API waiting BOUND seconds for a step, on a task queue of its own."""
    queue = unique("stuck")
    settings = resources.settings.model_copy(
        update={"temporal_task_queue": queue, "update_timeout_seconds": BOUND}
    )
    own = Resources(settings, resources.engine, resources.sessions, resources.temporal)
    transport = httpx.ASGITransport(app=create_app(resources=own))
    async with httpx.AsyncClient(transport=transport, base_url="http://oms.test") as client:
        yield client, queue


async def _place(api: httpx.AsyncClient, tenant: TenantKeys) -> str:
    await build_catalogue(api, tenant)
    line = {"line_id": "1", "sku": "WIDGET", "quantity": 1, "unit_price": 2}
    body = {"order_number": unique("SO"), "customer_id": "C-1", "currency": "EUR", "lines": [line]}
    created = await api.post("/v1/orders", json=body, headers=tenant.auth(Role.OMS))
    assert created.status_code == 201, created.text
    return str(body["order_number"])


async def _cancel(api: httpx.AsyncClient, tenant: TenantKeys, number: str) -> httpx.Response:
    return await api.post(
        f"/v1/orders/{number}/cancel",
        json={"reason": "changed my mind"},
        headers=tenant.auth(Role.OMS),
    )


def _assert_timeout(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 504, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == "urn:oms:problem:timeout"
    assert body["last_known_status"] == "received"
    assert f"within {BOUND:g}s" in body["detail"]
    return body


async def test_a_cancel_no_worker_takes_up_answers_504_saying_it_was_not_accepted(
    impatient: tuple[httpx.AsyncClient, str], tenant: TenantKeys
) -> None:
    api, _ = impatient  # no worker polls its task queue
    number = await _place(api, tenant)

    body = _assert_timeout(await _cancel(api, tenant, number))

    assert body["update"] == "not accepted"
    assert "may still take effect" in body["detail"]


# Stand-ins for the order's activities: it is recorded, then its reservation fails
# (retried without end), so a cancel is taken up and waits for a step that never ends.
@activity.defn(name="record_order")
async def record_order(data: Any) -> None:
    return None


@activity.defn(name="project_order")
async def project_order(view: OrderView) -> None:
    return None


RESERVING = asyncio.Event()


@activity.defn(name="reserve_lines")
async def reserve_lines(data: ReserveLinesInput) -> ReserveLinesResult:
    RESERVING.set()
    raise RuntimeError("the database refuses this line (retried without end)")


async def test_a_cancel_waiting_on_a_step_that_never_ends_answers_504_saying_it_was_accepted(
    impatient: tuple[httpx.AsyncClient, str], tenant: TenantKeys, dev_env: WorkflowEnvironment
) -> None:
    api, queue = impatient
    worker = Worker(
        dev_env.client,
        task_queue=queue,
        workflows=[OrderWorkflow],
        activities=[record_order, project_order, reserve_lines],
    )
    RESERVING.clear()
    async with worker:
        number = await _place(api, tenant)
        # The order is inside its reservation step (a cancel sent with the start
        # would be taken before the step begins and cancel at once).
        await asyncio.wait_for(RESERVING.wait(), 30)
        response = await _cancel(api, tenant, number)

    body = _assert_timeout(response)
    assert body["update"] == "accepted"
