"""Business metrics (Prometheus): what the worker did, what stock operations were
refused, how many orders wait. The README's "Observability" lists them; the
sample dashboard (deploy/grafana) charts them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.errors import DomainError
from domain.orders import OrderStatus

log = logging.getLogger(__name__)


class StockMetrics:
    """Every stock operation (db/stock/operation.run_operations, db/stock/calls.py),
    from the API or an activity, by its name and result: ok, refused (a business
    rule said no: the reason is the domain error) or failed (anything else). An
    order's stock step, kept whole, counts its operations when it goes through,
    itself once when it does not."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.operations = Counter(
            "oms_stock_operations_total",
            "Stock operations run, by operation and result",
            ["operation", "result"],
            registry=registry,
        )
        self.refusals = Counter(
            "oms_stock_refusals_total",
            "Stock operations refused, by operation and reason",
            ["operation", "reason"],
            registry=registry,
        )


_stock: ContextVar[StockMetrics | None] = ContextVar("oms_stock_metrics", default=None)


def count_stock_operations_in(metrics: StockMetrics) -> None:
    """Stock operations run in this task (a request, an activity) count here."""
    _stock.set(metrics)


@dataclass
class OperationCount:
    counted: bool = True  # False: the operation is handed on, and counted where it runs


@contextmanager
def stock_operation(operation: str, operations: int = 1) -> Iterator[OperationCount]:
    """Count one stock operation where the current task says (nowhere if unset);
    `operations`: a step of several, kept whole, counted each when it succeeds and
    once when it is refused or fails (its operations were not refused each)."""
    metrics = _stock.get()
    count = OperationCount()
    try:
        yield count
    except DomainError as refusal:
        if metrics is not None:
            metrics.operations.labels(operation, "refused").inc()
            metrics.refusals.labels(operation, type(refusal).__name__).inc()
        raise
    except Exception:
        if metrics is not None:
            metrics.operations.labels(operation, "failed").inc()
        raise
    if metrics is not None and count.counted:
        metrics.operations.labels(operation, "ok").inc(operations)


class WebhookMetrics:
    """Events out: what the relay published and what the delivery activity sent."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.events_published = Counter(
            "oms_events_published_total",
            "Committed events the relay published to the feed and the endpoints",
            registry=registry,
        )
        self.deliveries = Counter(
            "oms_webhook_deliveries_total",
            "Webhook attempts by outcome: delivered (2xx), retrying (failed, a retry "
            "ahead), failed (the retry schedule ran out), gone (410: endpoint disabled)",
            ["outcome"],
            registry=registry,
        )
        self.retry_backlog = Gauge(
            "oms_webhook_retry_backlog",
            "Pending deliveries that failed at least once, all tenants (the relay counts)",
            registry=registry,
        )
        self.delivery_latency = Histogram(
            "oms_webhook_delivery_latency_seconds",
            "From the event's commit to the receiver's 2xx",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600, 3600, 86400),
            registry=registry,
        )
        self.attempt_latency = Histogram(
            "oms_webhook_attempt_seconds",
            "One HTTP attempt, from sending to the answer (or the error)",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15),
            registry=registry,
        )


OPEN_STATUSES = tuple(s.value for s in OrderStatus if not s.is_final)


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry = registry or CollectorRegistry()
        self.stock = StockMetrics(registry)
        self.webhooks = WebhookMetrics(registry)
        self.workflows_closed = Counter(
            "oms_workflows_closed_total",
            "Workflow runs that ended, by workflow type and outcome (an order's, return's "
            "or transfer's final status; completed or failed for the others)",
            ["workflow", "outcome"],
            registry=registry,
        )
        self.schedule_runs = Counter(
            "oms_schedule_runs_total",
            "Runs of the scheduled workflows, by result",
            ["workflow", "result"],
            registry=registry,
        )
        self.activity_refusals = Counter(
            "oms_activity_refusals_total",
            "Activities that refused for a business reason (not retried), by type",
            ["activity", "type"],
            registry=registry,
        )
        self.activity_failures = Counter(
            "oms_activity_failures_total",
            "Activity attempts that failed and will be retried, by error",
            ["activity", "error"],
            registry=registry,
        )
        self.activity_retries = Counter(
            "oms_activity_retries_total",
            "Activity attempts after the first",
            ["activity"],
            registry=registry,
        )
        self.orders_open = Gauge(
            "oms_orders_open",
            "Orders not yet ended, by status (backordered: waiting for stock), all "
            "tenants; every worker reports the same figure",
            ["status"],
            registry=registry,
        )

    async def refresh_open_orders(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        async with sessions() as session:
            rows = await session.execute(
                text(
                    "SELECT status, count(*) FROM orders WHERE status = ANY(:open) GROUP BY status"
                ),
                {"open": list(OPEN_STATUSES)},
            )
            counts: dict[str, int] = {status: count for status, count in rows}
        for status in OPEN_STATUSES:
            self.orders_open.labels(status).set(counts.get(status, 0))

    async def keep_open_orders_fresh(
        self, sessions: async_sessionmaker[AsyncSession], every: float = 15.0
    ) -> None:
        """Count the open orders now and every `every` seconds, until cancelled."""
        while True:
            try:
                await self.refresh_open_orders(sessions)
            except Exception as error:  # the database may be away: try again later
                log.warning("could not count open orders: %s", error)
            await asyncio.sleep(every)
