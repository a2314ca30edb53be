"""Activities of the inventory scan: one bounded page of stock levels or lot levels
per call (heartbeating as it writes), the reconciliation, the tenants to scan."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from contracts.inventory_scan import (
    ReconcileTenantInput,
    ReconcileTenantResult,
    ScanPageInput,
    ScanPageResult,
    TenantPageInput,
    TenantPageResult,
)
from db.inventory_scan import PageCounts, reconcile_tenant, scan_levels, scan_lots


def _beat() -> None:
    activity.heartbeat()


def _result(counts: PageCounts) -> ScanPageResult:
    return ScanPageResult(
        raised=counts.raised, resolved=counts.resolved, last=counts.last, more=counts.more
    )


class InventoryScanActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn
    async def scan_stock_levels(self, data: ScanPageInput) -> ScanPageResult:
        """low_stock, out_of_stock and below_reorder_point, raised and resolved for
        one page of the tenant's stock levels. Idempotent: a retry finds the alerts
        the first attempt raised open, and raises nothing twice."""
        counts = await scan_levels(
            self._sessions,
            data.tenant_id,
            after=data.after,
            limit=data.batch,
            today=datetime.now(UTC).date(),
            beat=_beat,
        )
        return _result(counts)

    @activity.defn
    async def scan_lot_levels(self, data: ScanPageInput) -> ScanPageResult:
        """expiring and expired, raised and resolved for one page of lot levels."""
        counts = await scan_lots(
            self._sessions,
            data.tenant_id,
            after=data.after,
            limit=data.batch,
            today=datetime.now(UTC).date(),
            warning_days=data.expiry_warning_days,
            beat=_beat,
        )
        return _result(counts)

    @activity.defn
    async def reconcile_stock(self, data: ReconcileTenantInput) -> ReconcileTenantResult:
        """The tenant's invariants checked; `reconciliation` alerts raised/resolved."""
        counts = await reconcile_tenant(self._sessions, data.tenant_id)
        return ReconcileTenantResult(
            drifts=counts.drifts, raised=counts.raised, resolved=counts.resolved
        )

    @activity.defn
    async def tenants_to_scan(self, data: TenantPageInput) -> TenantPageResult:
        """The next page of tenant ids, after `after`."""
        async with self._sessions() as session:
            ids = await session.scalars(
                text("SELECT id FROM tenants WHERE id > :a ORDER BY id LIMIT :n"),
                {"a": data.after, "n": data.limit},
            )
            return TenantPageResult(tenant_ids=[int(i) for i in ids])
