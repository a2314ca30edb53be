"""The activity behind the stack check: the worker reaches Postgres and the schema."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from contracts.sweeps import DatabaseCheckInput, DatabaseCheckResult


class StackCheckActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn
    async def check_database(self, data: DatabaseCheckInput) -> DatabaseCheckResult:
        async with self._sessions() as session:
            version = await session.scalar(text("SHOW server_version"))
            revision = await session.scalar(text("SELECT version_num FROM alembic_version"))
        activity.logger.info("database check for %s: %s", data.requested_by, version)
        return DatabaseCheckResult(server_version=str(version), schema_revision=revision)
