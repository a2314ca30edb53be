"""LotExpiryWorkflow: marks lots past their expiry date `expired`, so their stock
leaves `available` for `held` in the stock levels.

A Temporal Schedule (`lot-expiry`, every five minutes; see workflows/schedules.py)
starts it. Reads, reservations, allocation and the backorder sweep already leave a
lot out from its expiry date on (domain/allocation.py `lot_status_on`); this run
makes the stored status and the levels say so too."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.lots import LotActivities
    from contracts.sweeps import ExpireLotsInput, ExpireLotsResult
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
        expired = await expire_lots(ExpireLotsInput(actor=data.actor, batch=data.batch))
        return LotExpiryResult(expired=expired)


async def expire_lots(first: ExpireLotsInput, max_batches: int = MAX_BATCHES) -> list[int]:
    """Workflow code: the lot ids marked expired, a batch after another from `first`
    (the inventory scan runs it for one tenant)."""
    expired: list[int] = []
    data = first
    for _ in range(max_batches):
        result: ExpireLotsResult = await workflow.execute_activity_method(
            LotActivities.expire_due_lots,
            data,
            start_to_close_timeout=retry_policies.SWEEP_TIMEOUT,
            heartbeat_timeout=retry_policies.SWEEP_HEARTBEAT,
            retry_policy=retry_policies.DATABASE,
        )
        expired += result.expired
        if not result.more:
            break
        data = replace(data, after=result.last)
    return expired
