"""The Temporal worker: every workflow and activity of the service on one task queue.

Builds the engine, session factory and Temporal client once and passes them in;
runs until SIGTERM/SIGINT, then stops polling, lets running activities finish
(graceful timeout) and exits 0."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from activities.backorders import BackorderActivities
from activities.failures import FailureInterceptor
from activities.orders import OrderActivities
from activities.reservations import ReservationActivities
from activities.returns import ReturnActivities
from activities.stack_check import StackCheckActivities
from activities.stuck_runs import StuckRunActivities
from activities.transfers import TransferActivities
from db.engine import create_engine, create_session_factory
from settings import ALERT_AFTER_ATTEMPTS, Settings
from workflows.backorder_wakeup import BackorderWakeupWorkflow
from workflows.client import connect
from workflows.order.workflow import OrderWorkflow
from workflows.reservation_expiry import ReservationExpiryWorkflow
from workflows.returns.workflow import ReturnWorkflow
from workflows.stack_check import StackCheckWorkflow
from workflows.stuck_runs import StuckRunsWorkflow
from workflows.transfer.workflow import TransferWorkflow

log = logging.getLogger("oms.worker")

WORKFLOWS = [
    StackCheckWorkflow,
    ReservationExpiryWorkflow,
    OrderWorkflow,
    BackorderWakeupWorkflow,
    ReturnWorkflow,
    TransferWorkflow,
    StuckRunsWorkflow,
]
GRACEFUL_SHUTDOWN = timedelta(seconds=20)


def build_worker(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    task_queue: str,
    *,
    alert_after_attempts: int = ALERT_AFTER_ATTEMPTS,
) -> Worker:
    """The worker with every workflow and activity (tests build it the same way)."""
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
            orders.record_order,
            orders.project_order,
            orders.reserve_lines,
            orders.release_reservations,
            orders.allocate_reservations,
            orders.pick_stock,
            orders.short_pick,
            orders.ship_stock,
            orders.deallocate_stock,
            orders.put_back_stock,
            backorders.find_wakeable_backorders,
            returns.receive_return_stock,
            returns.project_return,
            backorders.find_waiting_orders,
            StuckRunActivities(sessions, client).alert_stuck_runs,
            *_transfer_activities(transfers),
        ],
        interceptors=[FailureInterceptor(sessions, alert_after_attempts=alert_after_attempts)],
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )


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


async def run_worker(settings: Settings, stop: asyncio.Event) -> None:
    engine = create_engine(settings)
    try:
        client = await connect(settings)
        worker = build_worker(
            client, create_session_factory(engine), settings.temporal_task_queue,
            alert_after_attempts=settings.activity_alert_attempts,
        )  # fmt: skip
        async with worker:
            log.info(
                "worker polling task queue %r on %s (namespace %s)",
                settings.temporal_task_queue,
                settings.temporal_address,
                settings.temporal_namespace,
            )
            await stop.wait()
            log.info("stopping: draining running tasks")
    finally:
        await engine.dispose()
    log.info("worker stopped")


def main(settings: Settings | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = settings or Settings()

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
