"""The Temporal Schedules of the service, created (or updated) by `oms schedules`
and by `oms dev` at start."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from contracts.inventory_scan import ScanAllInput
from contracts.sweeps import StuckRunsInput
from settings import Settings
from workflows.backorder_wakeup import BackorderWakeupInput, BackorderWakeupWorkflow
from workflows.inventory_scan import InventoryScansWorkflow
from workflows.lot_expiry import LotExpiryInput, LotExpiryWorkflow
from workflows.reservation_expiry import ReservationExpiryInput, ReservationExpiryWorkflow
from workflows.stuck_runs import StuckRunsWorkflow

RESERVATION_EXPIRY = "reservation-expiry"
BACKORDER_WAKEUP = "backorder-wakeup"
STUCK_RUNS = "stuck-runs"
LOT_EXPIRY = "lot-expiry"
INVENTORY_SCAN = "inventory-scan"


@dataclass(frozen=True, kw_only=True)
class ScanPlan:
    """The inventory scan's settings (OMS_INVENTORY_SCAN_MINUTES, OMS_EXPIRY_WARNING_DAYS)."""

    minutes: int = 5
    expiry_warning_days: int = 30

    @classmethod
    def of(cls, settings: Settings) -> ScanPlan:
        return cls(
            minutes=settings.inventory_scan_minutes,
            expiry_warning_days=settings.expiry_warning_days,
        )


def _every(
    minutes: int, workflow_run: Any, arg: Any, workflow_id: str, task_queue: str
) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            workflow_run,
            arg,
            id=workflow_id,
            task_queue=task_queue,
            execution_timeout=timedelta(minutes=30),
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(minutes=minutes))]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


def schedules(task_queue: str, scan: ScanPlan | None = None) -> dict[str, Schedule]:
    scan = scan or ScanPlan()
    return {
        RESERVATION_EXPIRY: _every(
            1,
            ReservationExpiryWorkflow.run,
            ReservationExpiryInput(),
            RESERVATION_EXPIRY,
            task_queue,
        ),
        BACKORDER_WAKEUP: _every(
            1, BackorderWakeupWorkflow.run, BackorderWakeupInput(), BACKORDER_WAKEUP, task_queue
        ),
        STUCK_RUNS: _every(1, StuckRunsWorkflow.run, StuckRunsInput(), STUCK_RUNS, task_queue),
        # Reads leave an expired lot out from its expiry date on; this run only
        # catches the stored status and the levels' `held` up, so it need not be urgent.
        LOT_EXPIRY: _every(
            5,
            LotExpiryWorkflow.run,
            LotExpiryInput(actor=f"schedule:{LOT_EXPIRY}"),
            LOT_EXPIRY,
            task_queue,
        ),
        # one run per tenant (`inventory-scan-<tenant id>`), started by this one
        INVENTORY_SCAN: _every(
            scan.minutes,
            InventoryScansWorkflow.run,
            ScanAllInput(expiry_warning_days=scan.expiry_warning_days),
            INVENTORY_SCAN,
            task_queue,
        ),
    }


def scheduled_workflow_types() -> set[str]:
    """The workflow types the schedules start (the worker counts their runs)."""
    return {
        schedule.action.workflow
        for schedule in schedules("any").values()
        if isinstance(schedule.action, ScheduleActionStartWorkflow)
    }


async def apply_schedules(
    client: Client, task_queue: str, scan: ScanPlan | None = None
) -> list[str]:
    """Create the schedules, or bring existing ones up to date; their ids."""
    for schedule_id, schedule in schedules(task_queue, scan).items():
        try:
            await client.create_schedule(schedule_id, schedule)
        except ScheduleAlreadyRunningError:
            await client.get_schedule_handle(schedule_id).update(_replace_with(schedule))
    return list(schedules(task_queue))


def _replace_with(schedule: Schedule) -> Callable[[ScheduleUpdateInput], Awaitable[ScheduleUpdate]]:
    async def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=schedule)

    return replace
