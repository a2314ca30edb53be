"""The Temporal worker: every workflow and activity of the service on one task queue.

Builds the engine, session factory and Temporal client once and passes them in;
runs until SIGTERM/SIGINT, then stops polling, lets running activities finish
(graceful timeout) and exits 0."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import (
    Interceptor,
    UnsandboxedWorkflowRunner,
    Worker,
    WorkflowRunner,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from activities.backorders import BackorderActivities
from activities.failures import FailureInterceptor
from activities.inventory_scan import InventoryScanActivities
from activities.lots import LotActivities
from activities.orders import OrderActivities
from activities.purchasing import PurchaseOrderActivities
from activities.recalls import RecallActivities
from activities.reservations import ReservationActivities
from activities.returns import ReturnActivities
from activities.stack_check import StackCheckActivities
from activities.stuck_runs import StuckRunActivities
from activities.transfers import TransferActivities
from activities.webhooks import WebhookActivities
from api.event_render import EventRenderer
from db.engine import create_engine, create_session_factory
from db.migrate import behind_head, schema_revision
from observability.interceptors import ObservabilityInterceptor
from observability.logs import configure_logging
from observability.metrics import WorkerMetrics
from observability.serving import serve_worker_metrics, temporal_runtime
from observability.tracing import Tracing
from settings import ALERT_AFTER_ATTEMPTS, Settings
from webhooks.relay import Relay
from workflows.backorder_wakeup import BackorderWakeupWorkflow
from workflows.client import connect
from workflows.inventory_scan import InventoryScansWorkflow, InventoryScanWorkflow
from workflows.lot_expiry import LotExpiryWorkflow
from workflows.order.workflow import OrderWorkflow
from workflows.purchase_order import PurchaseOrderWorkflow
from workflows.recall import RecallWorkflow
from workflows.reservation_expiry import ReservationExpiryWorkflow
from workflows.returns.workflow import ReturnWorkflow
from workflows.schedules import scheduled_workflow_types
from workflows.stack_check import StackCheckWorkflow
from workflows.stuck_runs import StuckRunsWorkflow
from workflows.transfer.workflow import TransferWorkflow
from workflows.webhook_delivery import WebhookDeliveryWorkflow

log = logging.getLogger("oms.worker")

WORKFLOWS = [
    StackCheckWorkflow,
    ReservationExpiryWorkflow,
    OrderWorkflow,
    BackorderWakeupWorkflow,
    ReturnWorkflow,
    TransferWorkflow,
    StuckRunsWorkflow,
    LotExpiryWorkflow,
    WebhookDeliveryWorkflow,
    InventoryScanWorkflow,
    InventoryScansWorkflow,
    PurchaseOrderWorkflow,
    RecallWorkflow,
]
GRACEFUL_SHUTDOWN = timedelta(seconds=20)


def build_worker(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
    *,
    alert_after_attempts: int = ALERT_AFTER_ATTEMPTS,
    interceptors: Sequence[Interceptor] = (),
    webhooks: WebhookActivities | None = None,
    sandboxed: bool = True,
) -> Worker:
    """The worker with every workflow and activity (tests build it the same way;
    without `webhooks` it sends no webhook: `webhook_activities` builds them).
    `sandboxed=False` (OMS_WORKFLOW_SANDBOX=false) runs workflow code without the
    SDK's sandbox: its restrictions catch a non-deterministic call when it is made,
    at a cost per workflow activation; the test suite keeps it on."""
    stack_check = StackCheckActivities(sessions)
    reservations = ReservationActivities(sessions)
    orders = OrderActivities(sessions)
    backorders = BackorderActivities(sessions)
    returns = ReturnActivities(sessions)
    transfers = TransferActivities(sessions)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[
            stack_check.check_database,
            reservations.expire_due_reservations,
            LotActivities(sessions).expire_due_lots,
            orders.record_order,
            orders.project_order,
            orders.reserve_lines,
            orders.release_reservations,
            orders.allocate_reservations,
            orders.pick_stock,
            orders.pick_and_project,
            orders.short_pick,
            orders.ship_stock,
            orders.ship_and_project,
            orders.deallocate_stock,
            orders.give_back_order_stock,
            orders.put_back_stock,
            backorders.find_wakeable_backorders,
            returns.receive_return_stock,
            returns.project_return,
            backorders.find_waiting_orders,
            StuckRunActivities(sessions, client).alert_stuck_runs,
            *_transfer_activities(transfers),
            *_scan_activities(InventoryScanActivities(sessions)),
            *_purchase_order_activities(PurchaseOrderActivities(sessions)),
            RecallActivities(sessions).hold_recalled_lot,
            RecallActivities(sessions).complete_recall,
            *([webhooks.deliver_due] if webhooks is not None else []),
        ],
        # `interceptors` (traces, log context, metrics) outside: they see what the
        # failure interceptor made of an error
        interceptors=[
            *interceptors,
            FailureInterceptor(sessions, alert_after_attempts=alert_after_attempts),
        ],
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
        workflow_runner=workflow_runner(sandboxed),
    )


def workflow_runner(sandboxed: bool) -> WorkflowRunner:
    """The SDK's sandbox (its default), or none."""
    return SandboxedWorkflowRunner() if sandboxed else UnsandboxedWorkflowRunner()


def _scan_activities(scan: InventoryScanActivities) -> list[Any]:
    return [
        scan.scan_stock_levels,
        scan.scan_lot_levels,
        scan.reconcile_stock,
        scan.tenants_to_scan,
    ]


def _transfer_activities(transfers: TransferActivities) -> list[Any]:
    return [
        transfers.record_transfer,
        transfers.project_transfer,
        transfers.reserve_transfer,
        transfers.release_transfer,
        transfers.ship_transfer,
        transfers.receive_transfer,
        transfers.raise_transfer_alert,
    ]


def _purchase_order_activities(purchasing: PurchaseOrderActivities) -> list[Any]:
    return [
        purchasing.record_purchase_order,
        purchasing.receive_purchase_order,
        purchasing.close_purchase_order,
        purchasing.reschedule_purchase_order,
        purchasing.late_po_alert,
    ]


def webhook_activities(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    http: httpx.AsyncClient,
    metrics: WorkerMetrics | None = None,
) -> WebhookActivities:
    """The delivery activity, rendering events as the API shows them."""
    return WebhookActivities(
        sessions,
        settings,
        EventRenderer(sessions),
        http,
        metrics=None if metrics is None else metrics.webhooks,
    )


def observed_interceptors(tracing: Tracing, metrics: WorkerMetrics) -> list[Interceptor]:
    """Traces (when on), then log context and business metrics."""
    return [
        *tracing.temporal_interceptors(),
        ObservabilityInterceptor(metrics, scheduled=scheduled_workflow_types()),
    ]


SCHEMA_CHECK_SECONDS = 5.0  # how often a worker waiting for `oms migrate` looks again


async def schema_ready(engine: AsyncEngine, stop: asyncio.Event) -> bool:
    """Wait while the schema is not one this code runs on (behind its migrations, at
    a revision it does not know, or not readable): a worker that polled now would
    run steps on functions and columns that are not there yet and fail them until
    `oms migrate` runs. True once it is (db/migrate.py `behind_head`: at the head or
    past it); False when `stop` comes first."""
    said = None
    while not stop.is_set():
        try:
            wrong = behind_head(await schema_revision(engine))
        except (OSError, SQLAlchemyError) as error:
            wrong = f"the schema's revision not read ({type(error).__name__})"
        if wrong is None:
            return not stop.is_set()
        if wrong != said:
            log.error("not polling yet: %s (checked every %.0f s)", wrong, SCHEMA_CHECK_SECONDS)
            said = wrong
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SCHEMA_CHECK_SECONDS)
    return False


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    tracing = Tracing.from_settings(settings, "oms-worker")
    metrics = WorkerMetrics()
    engine = create_engine(settings, worker=True)
    tracing.instrument_engine(engine)
    sessions = create_session_factory(engine)
    serve_worker_metrics(settings, metrics)
    counting: asyncio.Task[None] | None = None
    try:
        if await schema_ready(engine, stop):
            counting = asyncio.create_task(metrics.keep_open_orders_fresh(sessions))
            await _poll(settings, sessions, tracing, metrics, stop)
    finally:
        if counting is not None:
            counting.cancel()
        await engine.dispose()
        tracing.shutdown()
    log.info("worker stopped")


async def _poll(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    tracing: Tracing,
    metrics: WorkerMetrics,
    stop: asyncio.Event,
) -> None:
    """Serve the task queue (and relay the events) until `stop`, then drain."""
    client = await connect(settings, runtime=temporal_runtime(settings))
    async with httpx.AsyncClient(follow_redirects=False) as http:
        worker = build_worker(
            client,
            sessions,
            settings.temporal_task_queue,
            alert_after_attempts=settings.activity_alert_attempts,
            interceptors=observed_interceptors(tracing, metrics),
            webhooks=webhook_activities(sessions, settings, http, metrics),
            sandboxed=settings.workflow_sandbox,
        )
        relay = Relay(
            sessions,
            client,
            database_url=settings.database_url,
            task_queue=settings.temporal_task_queue,
            metrics=metrics.webhooks,
        )
        async with worker:
            log.info(
                "worker polling task queue %r on %s (namespace %s); workflows %s",
                settings.temporal_task_queue,
                settings.temporal_address,
                settings.temporal_namespace,
                "sandboxed" if settings.workflow_sandbox else "NOT sandboxed",
            )
            relay.start()
            await stop.wait()
            log.info("stopping: draining running tasks")
            await relay.stop()


def main(settings: Settings | None = None) -> None:
    settings = settings or Settings()
    configure_logging(settings)

    async def _run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop)

    asyncio.run(_run())
    # Leave without interpreter teardown: Temporal's core threads can abort a
    # normal exit (PyGILState_Release, temporalio/sdk-python#300) and turn a clean
    # stop into exit code 134.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
