"""`POST /v1/inventory/scan`: the tenant's inventory scan, now (the schedule runs it
every few minutes anyway)."""

from __future__ import annotations

from temporalio.common import TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.service import RPCError

from api.deps import AdminDep, ResourcesDep
from api.routing import api_router
from api.schemas.inventory_scan import InventoryScanStarted
from api.workflow_calls import unavailable
from contracts.inventory_scan import InventoryScanInput
from workflows.inventory_scan import (
    SCAN_TIMEOUT,
    InventoryScanWorkflow,
    scan_attributes,
    scan_workflow_id,
)

router = api_router(prefix="/v1/inventory", tags=["inventory"])


@router.post(
    "/scan",
    response_model=InventoryScanStarted,
    status_code=202,
    summary="Scan the tenant's stock now: raise and resolve its stock alerts (admin)",
    description="Starts the tenant's inventory scan (low_stock, out_of_stock, "
    "below_reorder_point, expiring, expired, reconciliation alerts; see GET /v1/alerts). "
    "While one runs, answers with that one.",
)
async def scan_inventory(principal: AdminDep, resources: ResourcesDep) -> InventoryScanStarted:
    settings = resources.settings
    workflow_id = scan_workflow_id(principal.tenant_id)
    client = await resources.temporal.get()
    try:
        handle = await client.start_workflow(
            InventoryScanWorkflow.run,
            InventoryScanInput(
                tenant_id=principal.tenant_id, expiry_warning_days=settings.expiry_warning_days
            ),
            id=workflow_id,
            task_queue=settings.temporal_task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            execution_timeout=SCAN_TIMEOUT,  # as the schedule's runs
            search_attributes=TypedSearchAttributes(scan_attributes(principal.tenant_id)),
            rpc_timeout=resources.temporal.rpc_timeout,
        )
    except RPCError as error:
        raise unavailable(error) from error
    return InventoryScanStarted(workflow_id=workflow_id, run_id=str(handle.result_run_id))
