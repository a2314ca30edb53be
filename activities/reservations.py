"""Activities for reservations: thin calls of the stock operations."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from contracts.sweeps import ExpireDueInput, ExpireDueResult
from db.stock.promising import due_reservations, expire


class ReservationActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn
    async def expire_due_reservations(self, data: ExpireDueInput) -> ExpireDueResult:
        """Release every reservation whose expires_at has passed. Each release is
        its own idempotent operation, so a retried activity repeats nothing."""
        due = await due_reservations(self._sessions, datetime.now(UTC), data.batch)
        expired = []
        for reservation in due:
            activity.heartbeat(reservation.reservation_id)
            if await expire(self._sessions, reservation) is not None:
                expired.append(reservation.reservation_id)
        return ExpireDueResult(expired=expired, more=len(due) == data.batch)
