"""Stock came back (a return restocked, a transfer received): wake the orders
waiting for it at once, highest priority then oldest. Workflow code; the
`backorder-wakeup` Schedule catches anything a wake-up here misses."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import FailureError

with workflow.unsafe.imports_passed_through():
    from activities.backorders import BackorderActivities
    from contracts.orders import StockArrivedInput
    from contracts.sweeps import WaitingOrdersInput
    from workflows import retry_policies


async def wake_waiting_orders(tenant_id: int, skus: list[str]) -> None:
    if not skus:
        return
    found = await workflow.execute_activity_method(
        BackorderActivities.find_waiting_orders,
        WaitingOrdersInput(tenant_id=tenant_id, skus=skus),
        start_to_close_timeout=retry_policies.DATABASE_TIMEOUT,
        retry_policy=retry_policies.DATABASE,
    )
    for workflow_id in found.workflow_ids:
        handle = workflow.get_external_workflow_handle(workflow_id)
        for sku in skus:
            try:
                await handle.signal("stock_arrived", StockArrivedInput(sku=sku))
            except FailureError:
                break  # the order closed meanwhile
