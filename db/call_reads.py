"""A read as one statement on the call pool's autocommit connection (db/call_pool.py):
no session, no transaction around it, nothing between the statement and psycopg.

    rows = await read(sessions, SQL, params)  # SQL in psycopg's %s style

When the pool cannot serve (none attached, resting after a failure, every
connection busy) or the statement fails on it, the same statement runs once more
through the engine (SQLAlchemy's `exec_driver_sql`: no second copy of the SQL),
whose errors are reported as every other database access's are (SQLAlchemy's
wrapped errors: db/refusals.py tells a value refused for good from a retryable
failure, db/failures.py an unreachable database). A read is safe to run twice.

A traced engine (observability/tracing.py) traces these statements too: the call
pool's cursors make a span each, as the engine's own statements get."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.call_pool import Unavailable, call_pool

log = logging.getLogger(__name__)


async def read(
    sessions: async_sessionmaker[AsyncSession],
    sql: str,
    params: Sequence[Any] | Mapping[str, Any],
) -> Sequence[Sequence[Any]]:
    """The rows of `sql` given `params` (positional for %s, a mapping for %(name)s)."""
    engine: AsyncEngine = sessions.kw["bind"]
    pool = call_pool(engine)
    if pool is not None:
        try:
            async with pool.connection() as conn:
                return await (await conn.execute(sql, params, prepare=True)).fetchall()
        except Unavailable:
            pass
        except psycopg.Error as error:
            log.warning("read on the call pool failed: %s; through the engine instead", error)
    async with engine.connect() as conn:
        driver_params = dict(params) if isinstance(params, Mapping) else tuple(params)
        return (await conn.exec_driver_sql(sql, driver_params)).all()
