"""Activities for lots: the lot-expiry sweep."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from contracts.sweeps import ExpireLotsInput, ExpireLotsResult
from db.stock.lots import due_lots, expire_lot


class LotActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn
    async def expire_due_lots(self, data: ExpireLotsInput) -> ExpireLotsResult:
        """Mark every lot past its expiry date expired. Each lot is its own
        idempotent operation (one transaction), so a retried activity repeats nothing;
        a lot still promised is left for a later run."""
        today = datetime.now(UTC).date()
        due = await due_lots(
            self._sessions, today, after=data.after, limit=data.batch, tenant_id=data.tenant_id
        )
        expired = []
        for lot in due:
            activity.heartbeat(lot.lot_id)
            if await expire_lot(self._sessions, lot, actor=data.actor, today=today) is not None:
                expired.append(lot.lot_id)
        return ExpireLotsResult(
            expired=expired,
            last=due[-1].lot_id if due else data.after,
            more=len(due) == data.batch,
        )
