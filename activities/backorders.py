"""Activities behind the backorder wake-up sweep."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from db.orders import waiting_orders, wakeable_backorders


@dataclass(frozen=True)
class FindWakeableInput:
    limit: int = 500


@dataclass(frozen=True)
class Wakeable:
    workflow_id: str
    sku: str


@dataclass(frozen=True)
class FindWakeableResult:
    orders: list[Wakeable]


@dataclass(frozen=True)
class WaitingOrdersInput:
    tenant_id: int
    skus: list[str]


@dataclass(frozen=True)
class WaitingOrdersResult:
    workflow_ids: list[str]


class BackorderActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn
    async def find_wakeable_backorders(self, data: FindWakeableInput) -> FindWakeableResult:
        rows = await wakeable_backorders(self._sessions, data.limit)
        return FindWakeableResult([Wakeable(workflow_id, sku) for workflow_id, sku in rows])

    @activity.defn
    async def find_waiting_orders(self, data: WaitingOrdersInput) -> WaitingOrdersResult:
        """Orders backordered on these SKUs, highest priority then oldest first."""
        found = await waiting_orders(self._sessions, data.tenant_id, set(data.skus))
        return WaitingOrdersResult(found)
