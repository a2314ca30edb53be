"""ReservationExpiryWorkflow: releases reservations whose expires_at has passed.

A Temporal Schedule (`reservation-expiry`, every minute; see workflows/schedules.py)
starts it; operators see each run in the Temporal UI."""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.reservations import ReservationActivities
    from contracts.sweeps import ExpireDueInput
    from workflows import retry_policies

MAX_BATCHES = 20  # per run; the next scheduled run takes the rest


@dataclass(frozen=True)
class ReservationExpiryInput:
    batch: int = 500


@dataclass(frozen=True)
class ReservationExpiryResult:
    expired: list[int] = field(default_factory=list)


@workflow.defn
class ReservationExpiryWorkflow:
    @workflow.run
    async def run(self, data: ReservationExpiryInput) -> ReservationExpiryResult:
        expired: list[int] = []
        for _ in range(MAX_BATCHES):
            result = await workflow.execute_activity_method(
                ReservationActivities.expire_due_reservations,
                ExpireDueInput(batch=data.batch),
                start_to_close_timeout=retry_policies.SWEEP_TIMEOUT,
                heartbeat_timeout=retry_policies.SWEEP_HEARTBEAT,
                retry_policy=retry_policies.DATABASE,
            )
            expired += result.expired
            if not result.more:
                break
        return ReservationExpiryResult(expired=expired)
