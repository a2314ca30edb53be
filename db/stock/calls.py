"""A stock operation as one call of a server-side function (migration 0015): one
round trip, one transaction (autocommit: the statement is the transaction, so the
stock rows it locks are released the moment it ends, not a client round trip
later), straight through psycopg.

    result = await call(sessions, caller, "reserve", command, ReservationsResult,
                        SQL, params, reference=lambda: reference_reserve(...))

The function claims the key first, as `run_operation` does: a repeat replays the
first result (whichever path recorded it), a different request under the key is
an IdempotencyConflict. It handles the common case only; for anything else it
raises SQLSTATE OMS01 before anything is kept and `reference` (the operation
through `run_operation`) runs instead and decides, with its own wording. So both
paths keep one set of rules for refusals, and the fast path's only duty is to
succeed exactly where the reference would, with the same rows and result
(tests/integration/test_stock_calls.py compares them)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast

import psycopg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.stock.operation import (
    MAX_ATTEMPTS,
    RETRYABLE_SQLSTATES,
    Caller,
    adapter,
    replay,
    request_hash,
)
from observability.metrics import stock_operation

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFER = "OMS01"  # the function left the call to the reference implementation


def _engine(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine), "the session factory is bound to an engine"
    return engine


async def _fetch(engine: AsyncEngine, sql: str, params: Sequence[Any]) -> Any:
    """The one value `sql` returns, run on a pooled connection in autocommit."""
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        raw = await conn.get_raw_connection()
        driver = cast(psycopg.AsyncConnection[Any], raw.driver_connection)
        try:
            row = await (await driver.execute(sql, params, prepare=True)).fetchone()
        except psycopg.OperationalError:
            await conn.invalidate()  # a lost connection goes, not back to the pool
            raise
    assert row is not None
    return row[0]


async def _attempts(engine: AsyncEngine, operation: str, sql: str, params: Sequence[Any]) -> Any:
    """The function's answer; None when it deferred. Retries a deadlock, a
    serialization failure or a lost connection: the same key replays if the lost
    attempt committed."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return await _fetch(engine, sql, params)
        except psycopg.Error as error:
            if error.sqlstate == DEFER:
                return None
            retryable = error.sqlstate in RETRYABLE_SQLSTATES or isinstance(
                error, psycopg.OperationalError
            )
            if not retryable or attempt == MAX_ATTEMPTS:
                raise
            log.info("%s: %s, retrying (attempt %d)", operation, error.sqlstate, attempt)
            await asyncio.sleep(0.01 * 2**attempt)
    raise RuntimeError(f"{operation}: gave up after {MAX_ATTEMPTS} attempts")


async def call(
    sessions: async_sessionmaker[AsyncSession],
    caller: Caller,
    operation: str,
    command: Any,
    result_type: type[T],
    sql: str,
    params: Callable[[str], Sequence[Any]],
    reference: Callable[[], Awaitable[T]],
) -> T:
    """Run `sql` (given `params(request_hash)`) and return its result; replay a
    recorded one; or run `reference` when the function defers."""
    digest = request_hash(operation, command, type(command))
    with stock_operation(operation) as count:
        answer = await _attempts(_engine(sessions), operation, sql, params(digest))
        if answer is not None:
            if "replay" in answer:
                return cast(T, replay(caller, operation, digest, answer["replay"], result_type))
            return cast(T, adapter(cast(Any, result_type)).validate_python(answer["result"]))
        count.counted = False
    return await reference()
