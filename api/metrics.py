"""Prometheus metrics of the API: requests per route, workflows started, update
latency per update, stock operations (observability/metrics.StockMetrics); and
the API's Temporal client interceptors (traces, log context, these metrics)."""

from __future__ import annotations

import logging
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import (
    Interceptor,
    OutboundInterceptor,
    QueryWorkflowInput,
    SignalWorkflowInput,
    StartWorkflowInput,
    StartWorkflowUpdateInput,
    WorkflowHandle,
    WorkflowUpdateHandle,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)

from observability import context
from observability.metrics import StockMetrics, count_stock_operations_in
from observability.tracing import Tracing

log = logging.getLogger(__name__)


class ApiMetrics:
    """One per API process (tests share one across apps): built before the app."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry = registry or CollectorRegistry()
        self.requests = Counter(
            "oms_http_requests_total",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "oms_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=registry,
        )
        self.workflows_started = Counter(
            "oms_workflows_started_total",
            "Business workflows started by the API (orders placed, returns, transfers)",
            ["workflow"],
            registry=registry,
        )
        self.update_latency = Histogram(
            "oms_workflow_update_duration_seconds",
            "Time from sending a workflow update (an order step, a return's receipt…) to "
            "its answer (accepted or refused), by update and outcome (answered, timeout, "
            "error)",
            ["update", "outcome"],
            registry=registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.updates_waiting = Gauge(
            "oms_workflow_updates_waiting",
            "Workflow updates (steps) sent and not yet taken up by their workflow, by update",
            ["update"],
            registry=registry,
        )
        self.stock = StockMetrics(registry)


class MetricsMiddleware:
    """Pure ASGI middleware (no BaseHTTPMiddleware overhead on the hot path)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        count_stock_operations_in(self.metrics.stock)
        root = scope.get("root_path", "")
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            # A mounted app's route (the console's) is labelled with its mount path:
            # routing extends this scope's root_path by it.
            mount = scope.get("root_path", "").removeprefix(root)
            template = f"{mount}{route.path}" if route is not None else "unmatched"
            method = scope["method"]
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - started)


class WorkflowCalls(Interceptor):
    """Every call the API makes on a workflow: its id (tenant, business number) on
    the request's log lines; starts counted; updates timed."""

    def __init__(self, metrics: ApiMetrics) -> None:
        self.metrics = metrics

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _ObservedCalls(next, self.metrics)


class _ObservedCalls(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, metrics: ApiMetrics) -> None:
        super().__init__(next)
        self.metrics = metrics

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        context.bind_workflow(input.id)
        handle = await super().start_workflow(input)
        self.metrics.workflows_started.labels(input.workflow).inc()
        log.info("started %s %s", input.workflow, input.id)
        return handle

    async def query_workflow(self, input: QueryWorkflowInput) -> Any:
        context.bind_workflow(input.id)
        return await super().query_workflow(input)

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        context.bind_workflow(input.id)
        await super().signal_workflow(input)

    async def start_workflow_update(
        self, input: StartWorkflowUpdateInput
    ) -> WorkflowUpdateHandle[Any]:
        """`execute_update` waits here until the update has its answer."""
        context.bind_workflow(input.id)
        started = time.perf_counter()
        outcome = "error"
        waiting = self.metrics.updates_waiting.labels(input.update)
        waiting.inc()
        try:
            handle = await super().start_workflow_update(input)
            outcome = "answered"
            return handle
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            outcome = "timeout"
            raise
        finally:
            waiting.dec()
            elapsed = time.perf_counter() - started
            self.metrics.update_latency.labels(input.update, outcome).observe(elapsed)


def api_interceptors(tracing: Tracing, metrics: ApiMetrics) -> list[Interceptor]:
    return [*tracing.temporal_interceptors(), WorkflowCalls(metrics)]
