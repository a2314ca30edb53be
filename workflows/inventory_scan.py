"""The inventory scan: alerts before the shelf is empty, that resolve themselves.

`InventoryScansWorkflow` (Temporal Schedule `inventory-scan`, every
`OMS_INVENTORY_SCAN_MINUTES`) starts one `InventoryScanWorkflow` per tenant, a page
of tenants at a time; each tenant's run (id `inventory-scan-<tenant id>`, search
attribute TenantId) is its own line in the Temporal UI and can be started by hand
(`POST /v1/inventory/scan`). A tenant's run marks its lots past expiry expired (the
lot-expiry rule, db/stock/lots.py), then pages through its stock levels and lot
levels raising and resolving low_stock, out_of_stock, below_reorder_point, expiring
and expired alerts, then reconciles its books (`reconciliation` alerts)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ChildWorkflowError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities.inventory_scan import InventoryScanActivities
    from contracts.inventory_scan import (
        InventoryScanInput,
        InventoryScanResult,
        InventoryScanStatus,
        ReconcileTenantInput,
        ReconcileTenantResult,
        ScanAllInput,
        ScanAllResult,
        ScanPageInput,
        ScanPageResult,
        ScanStep,
        TenantPageInput,
        TenantPageResult,
    )
    from contracts.sweeps import ExpireLotsInput
    from workflows import retry_policies, search_attributes
    from workflows.lot_expiry import expire_lots

MAX_PAGES = 1000  # per family of levels and run: 500,000 rows at the default batch
PAGES_PER_RUN = 20  # of tenants, before the all-tenants run continues as new
SCAN_TIMEOUT = timedelta(minutes=30)


def scan_workflow_id(tenant_id: int) -> str:
    return f"inventory-scan-{tenant_id}"


def scan_attributes(tenant_id: int) -> list[SearchAttributePair[Any]]:
    return search_attributes.pairs([search_attributes.TENANT_ID.value_set(str(tenant_id))])


@workflow.defn
class InventoryScanWorkflow:
    """One tenant's scan."""

    def __init__(self) -> None:
        self._step = ScanStep.STARTING
        self._raised = 0
        self._resolved = 0

    @workflow.run
    async def run(self, data: InventoryScanInput) -> InventoryScanResult:
        expired = await self._expire_lots(data)
        await self._pages(ScanStep.STOCK_LEVELS, InventoryScanActivities.scan_stock_levels, data)
        await self._pages(ScanStep.LOT_LEVELS, InventoryScanActivities.scan_lot_levels, data)
        drifts = await self._reconcile(data)
        self._step = ScanStep.DONE
        return InventoryScanResult(
            expired_lots=expired, raised=self._raised, resolved=self._resolved, drifts=drifts
        )

    @workflow.query
    def status(self) -> InventoryScanStatus:
        return InventoryScanStatus(step=self._step, raised=self._raised, resolved=self._resolved)

    async def _expire_lots(self, data: InventoryScanInput) -> list[int]:
        self._step = ScanStep.EXPIRING_LOTS
        first = ExpireLotsInput(
            actor="schedule:inventory-scan", batch=data.batch, tenant_id=data.tenant_id
        )
        return await expire_lots(first, MAX_PAGES)

    async def _pages(self, step: ScanStep, scan: object, data: InventoryScanInput) -> None:
        self._step = step
        after = (0, 0)
        for _ in range(MAX_PAGES):
            page: ScanPageResult = await workflow.execute_activity_method(
                scan,  # type: ignore[call-overload]
                ScanPageInput(
                    tenant_id=data.tenant_id,
                    after=after,
                    batch=data.batch,
                    expiry_warning_days=data.expiry_warning_days,
                ),
                start_to_close_timeout=retry_policies.SWEEP_TIMEOUT,
                heartbeat_timeout=retry_policies.SWEEP_HEARTBEAT,
                retry_policy=retry_policies.DATABASE,
            )
            self._raised += page.raised
            self._resolved += page.resolved
            after = page.last
            if not page.more:
                return

    async def _reconcile(self, data: InventoryScanInput) -> int:
        self._step = ScanStep.RECONCILING
        result: ReconcileTenantResult = await workflow.execute_activity_method(
            InventoryScanActivities.reconcile_stock,
            ReconcileTenantInput(tenant_id=data.tenant_id),
            start_to_close_timeout=retry_policies.SWEEP_TIMEOUT,
            retry_policy=retry_policies.DATABASE,
        )
        self._raised += result.raised
        self._resolved += result.resolved
        return result.drifts


@workflow.defn
class InventoryScansWorkflow:
    """Every tenant's scan, a page of tenants at a time (in parallel within a page);
    a tenant whose scan is still running (started by hand) is skipped this time."""

    @workflow.run
    async def run(self, data: ScanAllInput) -> ScanAllResult:
        after, scanned, skipped = data.after_tenant, 0, 0
        for _ in range(PAGES_PER_RUN):
            page: TenantPageResult = await workflow.execute_activity_method(
                InventoryScanActivities.tenants_to_scan,
                TenantPageInput(after=after, limit=data.tenants_per_page),
                start_to_close_timeout=retry_policies.DATABASE_TIMEOUT,
                retry_policy=retry_policies.DATABASE,
            )
            started = await asyncio.gather(*(self._scan(t, data) for t in page.tenant_ids))
            scanned += sum(started)
            skipped += len(started) - sum(started)
            if len(page.tenant_ids) < data.tenants_per_page:
                return ScanAllResult(scanned=scanned, skipped=skipped)
            after = page.tenant_ids[-1]
        workflow.continue_as_new(
            ScanAllInput(
                expiry_warning_days=data.expiry_warning_days,
                after_tenant=after,
                tenants_per_page=data.tenants_per_page,
            )
        )

    async def _scan(self, tenant_id: int, data: ScanAllInput) -> bool:
        try:
            await workflow.execute_child_workflow(
                InventoryScanWorkflow.run,
                InventoryScanInput(
                    tenant_id=tenant_id, expiry_warning_days=data.expiry_warning_days
                ),
                id=scan_workflow_id(tenant_id),
                execution_timeout=SCAN_TIMEOUT,
                search_attributes=TypedSearchAttributes(scan_attributes(tenant_id)),
            )
        except WorkflowAlreadyStartedError:
            return False
        except ChildWorkflowError:  # its run in the UI says why; the other tenants go on
            workflow.logger.warning("the inventory scan of tenant %s failed", tenant_id)
            return False
        return True
