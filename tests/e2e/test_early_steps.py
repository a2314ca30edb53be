"""A step that comes early waits: the API asks the workflow again while its
validator says the step is not possible *yet* (StepNotYetPossible), bounded by
OMS_EARLY_STEP_WAIT_SECONDS; a step that can never apply is refused at once. On
the dev server; the asks are counted by a client interceptor on a real client."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from temporalio import activity
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowUpdateInput,
    WorkflowUpdateHandle,
)
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from api.resources import Resources, TemporalConnection
from contracts.transfers import (
    RecordTransferInput,
    ReservedLine,
    ReserveTransferInput,
    ReserveTransferResult,
    TransferReservations,
    TransferView,
)
from domain.roles import Role
from domain.transfers import InFlightRecord, TransferStockResult
from tests.conftest import TenantKeys, unique
from tests.e2e.inventory_setup import build_catalogue, key, receive
from workflows.transfer.workflow import TransferWorkflow

PROBLEM = "application/problem+json"
BOUND = 4.0  # the update's bound: an early step waits half of it at most
PATIENCE = BOUND / 2


class _CountAsks(Interceptor):
    """Counts every update the API sends (each ask of a step), by update name."""

    def __init__(self) -> None:
        self.asks: Counter[str] = Counter()

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        asks = self.asks

        class _Outbound(OutboundInterceptor):
            async def start_workflow_update(
                self, input: StartWorkflowUpdateInput
            ) -> WorkflowUpdateHandle[Any]:
                asks[input.update] += 1
                return await super().start_workflow_update(input)

        return _Outbound(next)


@dataclass
class CountedApi:
    http: httpx.AsyncClient
    asks: Counter[str]
    queue: str


async def _counted_api(
    resources: Resources, dev_env: WorkflowEnvironment, queue: str
) -> AsyncIterator[CountedApi]:
    counter = _CountAsks()
    config = dev_env.client.config()
    config["interceptors"] = [counter]
    client = Client(**config)
    settings = resources.settings.model_copy(
        update={"temporal_task_queue": queue, "update_timeout_seconds": BOUND}
    )
    own = Resources(
        settings, resources.engine, resources.sessions, TemporalConnection(settings, client)
    )
    transport = httpx.ASGITransport(app=create_app(resources=own))
    async with httpx.AsyncClient(transport=transport, base_url="http://oms.test") as http:
        yield CountedApi(http, counter.asks, queue)


@pytest.fixture
async def counted(resources: Resources, dev_env: WorkflowEnvironment) -> AsyncIterator[CountedApi]:
    """The API with counted asks, on a task queue of its own (stand-in activities)."""
    async for api in _counted_api(resources, dev_env, unique("early")):
        yield api


@pytest.fixture
async def counted_real(
    resources: Resources, dev_env: WorkflowEnvironment, dev_worker: Worker
) -> AsyncIterator[CountedApi]:
    """The API with counted asks, served by the project's worker."""
    queue = resources.settings.temporal_task_queue
    async for api in _counted_api(resources, dev_env, queue):
        yield api


# Stand-ins for the transfer's activities: the reservation ends when the test says.
RESERVE = asyncio.Event()
SHIPS: list[TransferReservations] = []


@activity.defn(name="record_transfer")
async def record_transfer(data: RecordTransferInput) -> None:
    return None


@activity.defn(name="project_transfer")
async def project_transfer(view: TransferView) -> None:
    return None


@activity.defn(name="reserve_transfer")
async def reserve_transfer(data: ReserveTransferInput) -> ReserveTransferResult:
    if not RESERVE.is_set():
        raise RuntimeError("still reserving (retried until the test lets it through)")
    return ReserveTransferResult(
        reservations=[
            ReservedLine(reservation_id=n, sku=x.sku, lot=x.lot, quantity=x.quantity)
            for n, x in enumerate(data.lines, 1)
        ]
    )


@activity.defn(name="ship_transfer")
async def ship_transfer(data: TransferReservations) -> TransferStockResult:
    SHIPS.append(data)
    return TransferStockResult(stock=[InFlightRecord("WIDGET", None, 3, 0, 0)], movement_ids=[])


def _stand_in_worker(dev_env: WorkflowEnvironment, queue: str) -> Worker:
    return Worker(
        dev_env.client,
        task_queue=queue,
        workflows=[TransferWorkflow],
        activities=[record_transfer, project_transfer, reserve_transfer, ship_transfer],
    )


async def _create(api: httpx.AsyncClient, tenant: TenantKeys, sku: str = "WIDGET") -> str:
    number = unique("TR")
    body = {
        "transfer_number": number,
        "from_warehouse": "WH1",
        "to_warehouse": "WH2",
        "lines": [{"sku": sku, "quantity": 3}],
    }
    created = await api.post("/v1/transfers", json=body, headers=tenant.auth(Role.WMS))
    assert created.status_code == 201, created.text
    return number


async def _ship(
    api: httpx.AsyncClient, tenant: TenantKeys, number: str, idempotency: dict[str, str]
) -> httpx.Response:
    return await api.post(
        f"/v1/transfers/{number}/ship",
        json={"carrier": "DHL", "tracking_number": "T-1"},
        headers={**tenant.auth(Role.WMS), **idempotency},
    )


async def test_a_ship_sent_while_the_transfer_reserves_waits_and_ships_once(
    counted: CountedApi, tenant: TenantKeys, dev_env: WorkflowEnvironment
) -> None:
    await build_catalogue(counted.http, tenant)
    RESERVE.clear()
    SHIPS.clear()
    async with _stand_in_worker(dev_env, counted.queue):
        number = await _create(counted.http, tenant)
        same_key = key()
        shipping = asyncio.create_task(_ship(counted.http, tenant, number, same_key))
        for _ in range(200):  # refused as early at least twice, then reserved
            if counted.asks["ship"] >= 2:
                break
            await asyncio.sleep(0.05)
        assert counted.asks["ship"] >= 2 and not shipping.done()
        RESERVE.set()
        shipped = await shipping
        # The same update id was refused as early, then taken up: a repeat with the
        # Idempotency-Key answers the first outcome and ships nothing again.
        again = await _ship(counted.http, tenant, number, same_key)

    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == "in_transit"
    assert again.status_code == 200, again.text
    assert again.json()["shipped_at"] == shipped.json()["shipped_at"]
    assert len(SHIPS) == 1


async def test_a_ship_that_stays_early_is_refused_saying_how_long_it_waited(
    counted: CountedApi, tenant: TenantKeys, dev_env: WorkflowEnvironment
) -> None:
    await build_catalogue(counted.http, tenant)
    RESERVE.clear()
    async with _stand_in_worker(dev_env, counted.queue):
        number = await _create(counted.http, tenant)
        response = await _ship(counted.http, tenant, number, key())

    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == "urn:oms:problem:refused"
    assert body["waited_seconds"] == PATIENCE
    assert "still reserving" in body["detail"]
    assert f"waited {PATIENCE:g}s" in body["detail"]
    assert counted.asks["ship"] >= 3


async def test_shipping_a_canceled_transfer_is_refused_at_once(
    counted_real: CountedApi, tenant: TenantKeys
) -> None:
    api = counted_real.http
    await build_catalogue(api, tenant)
    assert (await receive(api, tenant, "WIDGET", 5)).status_code == 201
    number = await _create(api, tenant)
    # cancel right after create: taken up at once, it waits for the reservation
    canceled = await api.post(
        f"/v1/transfers/{number}/cancel", json=None, headers={**tenant.auth(Role.WMS), **key()}
    )
    assert canceled.status_code == 200, canceled.text
    assert canceled.json()["status"] == "canceled"

    response = await _ship(api, tenant, number, key())

    assert response.status_code == 409, response.text
    body = response.json()
    assert body["type"] == "urn:oms:problem:refused"
    assert "canceled" in body["detail"] and "waited" not in body["detail"]
    assert body.get("waited_seconds") is None
    assert counted_real.asks["ship"] == 1


async def test_the_readme_transfer_example_runs_as_one_block(
    api: httpx.AsyncClient, tenant: TenantKeys, dev_worker: Worker
) -> None:
    """README "Transfers": create, ship, two receipts, sent back to back (no wait
    for the reservation), as a pasted block of curl commands sends them."""
    await build_catalogue(api, tenant)
    assert (await receive(api, tenant, "WIDGET", 10)).status_code == 201
    wms = tenant.auth(Role.WMS)
    number = unique("TR")
    body = {
        "transfer_number": number,
        "from_warehouse": "WH1",
        "to_warehouse": "WH2",
        "lines": [{"sku": "WIDGET", "quantity": 10}],
    }
    path = f"/v1/transfers/{number}"
    created = await api.post("/v1/transfers", json=body, headers=wms)
    read = await api.get(path, headers=tenant.auth(Role.VIEWER))
    shipped = await _ship(api, tenant, number, key())
    first = await api.post(
        f"{path}/receive",
        json={"location": "A1", "lines": [{"sku": "WIDGET", "received": 6}]},
        headers={**wms, **key()},
    )
    rest = await api.post(
        f"{path}/receive",
        json={"location": "A1", "lines": [{"sku": "WIDGET", "received": 3, "reason": "torn"}]},
        headers={**wms, **key()},
    )

    assert created.status_code == 201, created.text
    assert read.status_code == 200 and read.json()["status"] in ("requested", "reserved")
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == "in_transit"
    assert first.status_code == 200 and first.json()["status"] == "partially_received"
    assert rest.status_code == 200 and rest.json()["status"] == "completed"
