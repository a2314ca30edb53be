"""BackorderWakeupWorkflow: the durable side of backorder wake-ups.

A receipt signals waiting orders at once (best effort). Stock also comes back by
other roads (a canceled order, a count, a put-away), and a signal can be lost; so a
Temporal Schedule (`backorder-wakeup`, every minute) runs this sweep: every
backordered order whose item has stock allocation could take again (beyond what is
reserved; never a dock's, a held or an expired lot's: db/orders.py
`wakeable_backorders`) is signalled, highest priority first, then oldest."""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from activities.backorders import BackorderActivities
    from contracts.orders import StockArrivedInput
    from contracts.sweeps import FindWakeableInput
    from workflows import retry_policies


@dataclass(frozen=True)
class BackorderWakeupInput:
    limit: int = 500


@dataclass(frozen=True)
class BackorderWakeupResult:
    woken: list[str] = field(default_factory=list)


@workflow.defn
class BackorderWakeupWorkflow:
    @workflow.run
    async def run(self, data: BackorderWakeupInput) -> BackorderWakeupResult:
        found = await workflow.execute_activity_method(
            BackorderActivities.find_wakeable_backorders,
            FindWakeableInput(limit=data.limit),
            start_to_close_timeout=retry_policies.DATABASE_TIMEOUT,
            retry_policy=retry_policies.DATABASE,
        )
        woken: list[str] = []
        for order in found.orders:
            handle = workflow.get_external_workflow_handle(order.workflow_id)
            try:
                await handle.signal("stock_arrived", StockArrivedInput(sku=order.sku))
            except FailureError:
                continue  # the order closed meanwhile
            woken.append(order.workflow_id)
        return BackorderWakeupResult(woken)
