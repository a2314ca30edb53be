"""Activities for lots: the lot-expiry sweep."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from db.stock.lots import due_lots, expire_lot


@dataclass(frozen=True, kw_only=True)
class ExpireLotsInput:
    actor: str  # who marks them: the schedule that started the sweep
    after: int = 0  # lot ids up to this one were looked at by an earlier batch
    batch: int = 500


@dataclass(frozen=True, kw_only=True)
class ExpireLotsResult:
    expired: list[int] = field(default_factory=list)  # lot ids marked expired by this call
    last: int = 0  # the last lot id looked at
    more: bool = False  # a full batch was due: look after `last`


class LotActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn
    async def expire_due_lots(self, data: ExpireLotsInput) -> ExpireLotsResult:
        """Mark every lot past its expiry date expired. Each lot is its own
        idempotent operation (one transaction), so a retried activity repeats nothing;
        a lot still promised is left for a later run."""
        today = datetime.now(UTC).date()
        due = await due_lots(self._sessions, today, after=data.after, limit=data.batch)
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
