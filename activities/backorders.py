"""Activities behind the backorder wake-up sweep."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from contracts.sweeps import (
    FindWakeableInput,
    FindWakeableResult,
    WaitingOrdersInput,
    WaitingOrdersResult,
    Wakeable,
)
from db.orders import waiting_orders, wakeable_backorders


class BackorderActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn
    async def find_wakeable_backorders(self, data: FindWakeableInput) -> FindWakeableResult:
        rows = await wakeable_backorders(self._sessions, data.limit)
        return FindWakeableResult(
            orders=[Wakeable(workflow_id=workflow_id, sku=sku) for workflow_id, sku in rows]
        )

    @activity.defn
    async def find_waiting_orders(self, data: WaitingOrdersInput) -> WaitingOrdersResult:
        """Orders backordered on these SKUs, highest priority then oldest first."""
        found = await waiting_orders(self._sessions, data.tenant_id, set(data.skus))
        return WaitingOrdersResult(workflow_ids=found)
