"""Events in tests: the relay's step run until nothing is pending, then a tenant's feed."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contracts.events import StoredEvent
from db.events import read_feed
from tests.integration.test_outbox import _publish_all


async def feed(
    sessions: async_sessionmaker[AsyncSession], tenant_id: int, *types: str
) -> list[StoredEvent]:
    """The tenant's events of these types (patterns; all when none), in feed order,
    once everything committed so far is published."""
    await _publish_all(sessions)
    async with sessions() as session:
        return await read_feed(session, tenant_id, after=None, types=types, limit=1000)


def story(events: list[StoredEvent]) -> list[tuple[str, str, int]]:
    """(type, subject id, sequence) of each event."""
    return [(e.type, e.subject_id, e.sequence) for e in events]
