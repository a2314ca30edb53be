"""LotExpiryWorkflow: marks lots past their expiry date `expired`, so their stock
leaves `available` for `held` in the stock levels.

A Temporal Schedule (`lot-expiry`, every five minutes; see workflows/schedules.py)
starts it. Reads, reservations, allocation and the backorder sweep already leave a
lot out from its expiry date on (domain/allocation.py `lot_status_on`); this run
makes the stored status and the levels say so too."""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.lots import LotActivities
    from contracts.sweeps import ExpireLotsInput
    from workflows import retry_policies

MAX_BATCHES = 20  # per run; the next scheduled run takes the rest


@dataclass(frozen=True, kw_only=True)
class LotExpiryInput:
    actor: str = "schedule:lot-expiry"  # recorded on each lot it marks
    batch: int = 500


@dataclass(frozen=True, kw_only=True)
class LotExpiryResult:
    expired: list[int] = field(default_factory=list)  # lot ids


@workflow.defn
class LotExpiryWorkflow:
    @workflow.run
    async def run(self, data: LotExpiryInput) -> LotExpiryResult:
        expired: list[int] = []
        after = 0
        for _ in range(MAX_BATCHES):
            result = await workflow.execute_activity_method(
                LotActivities.expire_due_lots,
                ExpireLotsInput(actor=data.actor, after=after, batch=data.batch),
                start_to_close_timeout=retry_policies.SWEEP_TIMEOUT,
                heartbeat_timeout=retry_policies.SWEEP_HEARTBEAT,
                retry_policy=retry_policies.DATABASE,
            )
            expired += result.expired
            after = result.last
            if not result.more:
                break
        return LotExpiryResult(expired=expired)
