"""The Temporal Schedules of the service, created (or updated) by `oms schedules`
and by `oms dev` at start."""

from __future__ import annotations

from datetime import timedelta

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

from workflows.reservation_expiry import ReservationExpiryInput, ReservationExpiryWorkflow

RESERVATION_EXPIRY = "reservation-expiry"


def reservation_expiry(task_queue: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            ReservationExpiryWorkflow.run,
            ReservationExpiryInput(),
            id="reservation-expiry",
            task_queue=task_queue,
            execution_timeout=timedelta(minutes=30),
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(minutes=1))]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def apply_schedules(client: Client, task_queue: str) -> list[str]:
    """Create the schedules, or bring existing ones up to date; their ids."""
    schedule = reservation_expiry(task_queue)
    try:
        await client.create_schedule(RESERVATION_EXPIRY, schedule)
    except ScheduleAlreadyRunningError:

        async def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(RESERVATION_EXPIRY).update(replace)
    return [RESERVATION_EXPIRY]
