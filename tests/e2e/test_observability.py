"""Traces, logs and metrics of an order, on the dev server with the project's worker
and API built as `oms worker` and `oms api` build them, tracing into memory."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import generate_latest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowFailureError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from api.metrics import ApiMetrics, api_interceptors
from api.resources import Resources, TemporalConnection
from cli.embedded import free_port
from db.engine import create_engine, create_session_factory
from domain.roles import Role
from observability import logs
from observability.interceptors import ObservabilityInterceptor
from observability.metrics import WorkerMetrics
from observability.serving import serve_worker_metrics, worker_metrics_url
from observability.tracing import Tracing
from settings import Settings
from tests.conftest import TenantKeys, make_tenant, unique
from tests.e2e.flaky_workflow import FlakyWorkflow, flaky
from tests.e2e.inventory_setup import build_catalogue, receive
from worker import build_worker, observed_interceptors

T = TypeVar("T")


@dataclass(kw_only=True)
class Observed:
    api: httpx.AsyncClient
    spans: InMemorySpanExporter
    log: io.StringIO  # JSON lines
    api_metrics: ApiMetrics
    worker_metrics: WorkerMetrics
    sessions: async_sessionmaker[AsyncSession]
    worker_metrics_url: str


@pytest.fixture(scope="module")
async def observed(settings: Settings, dev_env: WorkflowEnvironment) -> AsyncIterator[Observed]:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    tracing = Tracing(provider)
    own = settings.model_copy(
        update={
            "temporal_task_queue": unique("oms-observed"),
            "worker_metrics_port": free_port(),
            "log_format": "json",
        }
    )
    engine = create_engine(own)
    tracing.instrument_engine(engine)
    sessions = create_session_factory(engine)
    api_metrics, worker_metrics = ApiMetrics(), WorkerMetrics()
    config = dev_env.client.config()
    config["interceptors"] = api_interceptors(tracing, api_metrics)
    client = Client(**config)
    resources = Resources(
        settings=own, engine=engine, sessions=sessions, temporal=TemporalConnection(own, client)
    )
    worker = build_worker(
        dev_env.client,
        sessions,
        own.temporal_task_queue,
        interceptors=observed_interceptors(tracing, worker_metrics),
    )
    server = serve_worker_metrics(own, worker_metrics)
    url = worker_metrics_url(own)
    assert server is not None and url is not None
    log = io.StringIO()
    handler = logs.handler(own, log)
    root, ours = logging.getLogger(), logging.getLogger("observability")
    levels = root.level, ours.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    ours.setLevel(logging.DEBUG)  # a line per activity
    transport = httpx.ASGITransport(app=create_app(resources=resources, tracing=tracing))
    try:
        async with (
            worker,
            httpx.AsyncClient(transport=transport, base_url="http://oms.test") as api,
        ):
            yield Observed(
                api=api,
                spans=spans,
                log=log,
                api_metrics=api_metrics,
                worker_metrics=worker_metrics,
                sessions=sessions,
                worker_metrics_url=url,
            )
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        ours.setLevel(levels[1])
        server.shutdown()
        await engine.dispose()


async def eventually(probe: Callable[[], T | None], seconds: float = 20) -> T:
    for _ in range(int(seconds / 0.1)):
        found = probe()
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"not seen within {seconds}s")


async def _shop(observed: Observed, tenant: TenantKeys) -> None:
    await build_catalogue(observed.api, tenant)
    assert (await receive(observed.api, tenant, "WIDGET", 10)).status_code == 201


async def _place(observed: Observed, tenant: TenantKeys, **extra: Any) -> dict[str, Any]:
    body = {
        "order_number": unique("SO"),
        "customer_id": "C-1",
        "currency": "EUR",
        "lines": [{"line_id": "1", "sku": "WIDGET", "quantity": 2, "unit_price": 5}],
        **extra,
    }
    created = await observed.api.post("/v1/orders", json=body, headers=tenant.auth(Role.OMS))
    assert created.status_code == 201, created.text
    order: dict[str, Any] = created.json()
    return order


async def _until(observed: Observed, tenant: TenantKeys, number: str, status: str) -> None:
    async def status_now() -> str:
        got = await observed.api.get(f"/v1/orders/{number}", headers=tenant.auth(Role.VIEWER))
        return str(got.json()["status"])

    for _ in range(200):
        if await status_now() == status:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"order {number} never became {status}")


def _trace_of(spans: list[ReadableSpan], workflow_id: str) -> list[ReadableSpan]:
    starts = [
        s
        for s in spans
        if s.name == "StartWorkflow:OrderWorkflow"
        and (s.attributes or {}).get("temporalWorkflowID") == workflow_id
    ]
    if not starts:
        return []
    trace_id = starts[0].context.trace_id
    return [s for s in spans if s.context.trace_id == trace_id]


async def test_one_order_is_one_trace_from_the_post_through_workflow_and_activities_to_sql(
    observed: Observed, tenant: TenantKeys
) -> None:
    await _shop(observed, tenant)
    order = await _place(observed, tenant)
    await _until(observed, tenant, order["order_number"], "allocated")
    activities = [
        "RunActivity:record_order",  # a local activity
        "RunActivity:reserve_lines",  # it allocates too (order-reserve-and-allocate)
        "RunActivity:project_order",  # a local activity
    ]
    wanted = {
        "POST /v1/orders",
        "StartWorkflow:OrderWorkflow",
        "RunWorkflow:OrderWorkflow",
        *activities,
    }

    def whole_trace() -> list[ReadableSpan] | None:
        trace = _trace_of(list(observed.spans.get_finished_spans()), order["workflow_id"])
        return trace if wanted <= {s.name for s in trace} else None

    trace = await eventually(whole_trace)
    by_id = {s.context.span_id: s for s in trace}
    for name in activities:
        activity = next(s for s in trace if s.name == name)
        sql = [s for s in trace if s.parent and s.parent.span_id == activity.context.span_id]
        on_postgres = [s for s in sql if (s.attributes or {}).get("db.system") == "postgresql"]
        assert sql and on_postgres == sql, f"{name} has no SQL spans under it"
    [post] = [s for s in trace if s.name == "POST /v1/orders"]
    assert post.parent is None  # the root: everything else hangs below the request
    assert all(s.parent is None or s.parent.span_id in by_id for s in trace)


@dataclass(frozen=True, kw_only=True)
class CanceledOrder:
    tenant_id: int
    number: str
    workflow_id: str
    request_id_sent: str
    request_id_answered: str


@pytest.fixture(scope="module")
async def canceled_order(observed: Observed, sessions: async_sessionmaker[AsyncSession]) -> Any:
    """An order placed, holding stock for its payment, then canceled."""
    tenant = await make_tenant(sessions)
    await _shop(observed, tenant)
    order = await _place(observed, tenant, payment={"status": "pending", "ttl_seconds": 900})
    number = order["order_number"]
    await _until(observed, tenant, number, "pending_payment")
    request_id = unique("req")
    canceled = await observed.api.post(
        f"/v1/orders/{number}/cancel",
        json={"reason": "changed my mind"},
        headers={**tenant.auth(Role.OMS), "X-Request-Id": request_id},
    )
    assert canceled.status_code == 200, canceled.text
    await _until(observed, tenant, number, "canceled")
    tenant_id = int(order["workflow_id"].split(":")[1])
    return CanceledOrder(
        tenant_id=tenant_id,
        number=number,
        workflow_id=order["workflow_id"],
        request_id_sent=request_id,
        request_id_answered=canceled.headers["X-Request-Id"],
    )


def _lines(observed: Observed) -> list[dict[str, Any]]:
    return [json.loads(line) for line in observed.log.getvalue().splitlines() if line]


async def test_every_log_line_of_an_order_carries_its_number_tenant_and_workflow(
    observed: Observed, canceled_order: CanceledOrder
) -> None:
    order = canceled_order

    def ended() -> list[dict[str, Any]] | None:
        lines = [x for x in _lines(observed) if x.get("tenant_id") == order.tenant_id]
        return lines if any("ended: canceled" in x["message"] for x in lines) else None

    lines = await eventually(ended)
    for line in lines:
        assert line["order_number"] == order.number, line
        assert line["workflow_id"] == order.workflow_id, line
    api = [x for x in lines if x["logger"] == "api.metrics"]
    assert api and all(x["request_id"] and x["key_id"] for x in api)
    workflow = [x for x in lines if x["logger"] == "temporalio.workflow"]
    assert workflow
    activities = {x["activity"] for x in lines if x["logger"] == "observability.interceptors"}
    # (the cancel gives the reservation back: order-gives-back-by-reference)
    assert {"record_order", "reserve_lines", "give_back_order_stock"} <= activities


async def test_the_request_id_sent_is_answered_and_a_new_one_made_when_absent(
    observed: Observed, canceled_order: CanceledOrder
) -> None:
    assert canceled_order.request_id_answered == canceled_order.request_id_sent
    answered = await observed.api.get("/healthz", headers={"X-Request-Id": "bad id\twith tab"})
    assert answered.headers["X-Request-Id"] not in ("", "bad id\twith tab")
    assert len(answered.headers["X-Request-Id"]) == 32


async def test_the_worker_metrics_endpoint_serves_the_business_metrics_of_an_order(
    observed: Observed, canceled_order: CanceledOrder
) -> None:
    await observed.worker_metrics.refresh_open_orders(observed.sessions)
    async with httpx.AsyncClient() as http:
        scraped = (await http.get(observed.worker_metrics_url)).text
    for sample in (
        'oms_workflows_closed_total{outcome="canceled",workflow="OrderWorkflow"}',
        'oms_stock_operations_total{operation="reserve",result="ok"}',
        'oms_stock_operations_total{operation="release",result="ok"}',
        'oms_orders_open{status="backordered"}',
    ):
        assert sample in scraped, sample
    api = generate_latest(observed.api_metrics.registry).decode()
    assert 'oms_workflows_started_total{workflow="OrderWorkflow"}' in api
    assert 'oms_workflow_update_duration_seconds_count{outcome="answered",update="cancel"}' in api


async def test_activity_failures_retries_refusals_and_schedule_runs_are_counted(
    dev_env: WorkflowEnvironment,
) -> None:
    metrics = WorkerMetrics()
    task_queue = unique("flaky")
    observer = ObservabilityInterceptor(metrics, scheduled={"FlakyWorkflow"})
    async with Worker(
        dev_env.client,
        task_queue=task_queue,
        workflows=[FlakyWorkflow],
        activities=[flaky],
        interceptors=[observer],
    ):
        run = dev_env.client.execute_workflow
        assert await run(FlakyWorkflow.run, False, id=unique("flaky"), task_queue=task_queue)
        with pytest.raises(WorkflowFailureError):
            await run(FlakyWorkflow.run, True, id=unique("flaky"), task_queue=task_queue)
    count = metrics.registry.get_sample_value
    assert count("oms_activity_failures_total", {"activity": "flaky", "error": "RuntimeError"}) == 1
    assert count("oms_activity_retries_total", {"activity": "flaky"}) == 1
    refusal = {"activity": "flaky", "type": "InsufficientStock"}
    assert count("oms_activity_refusals_total", refusal) == 1
    for outcome in ("completed", "failed"):
        closed = {"workflow": "FlakyWorkflow", "outcome": outcome}
        assert count("oms_workflows_closed_total", closed) == 1
        run_result = {"workflow": "FlakyWorkflow", "result": outcome}
        assert count("oms_schedule_runs_total", run_result) == 1
