"""A psycopg pool beside each engine, for the stock operations that are one call
of a server-side function (db/stock/calls.py) and the short transactions of the
order projection (`in_transaction`): autocommit connections, no pre-ping, nothing
between the statements and the driver. Checking a connection out of
the engine's pool costs more CPU than the whole call (measured: bench.stock_ops);
this pool costs next to nothing.

It is made with the engine (db/engine.py `create_engine`), opened at its first
use and closed when the engine is disposed. A call it cannot serve (PostgreSQL
down or restarted, every connection busy past the engine's pool timeout) is not
an error here: the caller runs the operation through the engine instead, which
retries and reports as every other database access does; and for a few seconds
after such a failure the pool is not asked at all, so an outage costs one wait."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

from db import failures

RESTING_SECONDS = 5.0  # after a failure, calls go through the engine this long

T = TypeVar("T")
Connection = psycopg.AsyncConnection[Any]


class Unavailable(Exception):
    """The pool could not give a working connection: use the engine."""


class CallPool:
    def __init__(
        self, database_url: str, connect_kwargs: dict[str, Any], max_size: int, timeout: float
    ) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._kwargs = {**connect_kwargs, "autocommit": True}
        self._max_size = max_size
        self._timeout = timeout
        self._pool: AsyncConnectionPool[Any] | None = None
        self._opening: asyncio.Task[None] | None = None
        self._resting_until = 0.0

    async def _opened(self) -> AsyncConnectionPool[Any]:
        if self._pool is None:
            self._pool = AsyncConnectionPool(
                self._conninfo,
                min_size=1,
                max_size=self._max_size,
                kwargs=self._kwargs,
                timeout=self._timeout,
                open=False,
            )
            self._opening = asyncio.ensure_future(self._pool.open(wait=False))
        assert self._opening is not None
        await asyncio.shield(self._opening)
        return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """An autocommit connection; Unavailable when there is none that works (the
        call made on it did not happen, or its outcome is unknown: either way the
        operation's idempotency key makes running it again through the engine safe)."""
        if time.monotonic() < self._resting_until:
            raise Unavailable("resting after a failure")
        try:
            pool = await self._opened()
            async with pool.connection() as conn:
                yield conn
        except PoolTimeout as error:
            self._rest()
            raise Unavailable(str(error)) from error
        except psycopg.Error as error:
            if failures.driver_unreachable(error):
                self._rest()
            raise

    def use_cursor(self, cursor_factory: type[psycopg.AsyncCursor[Any]]) -> None:
        """Make the pool's connections' cursors with this class (a traced one:
        observability/tracing.py); before the first use."""
        self._kwargs["cursor_factory"] = cursor_factory

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A connection in a transaction, committed when the block ends (rolled back
        when it raises). Not in pipeline mode: it would save two round trips (BEGIN,
        COMMIT), but costs more CPU than it saves on a near server (measured with
        bench/projection_writes.py: 2.3-3.0 ms per projection update piped, 1.8-2.1
        not)."""
        async with self.connection() as conn, conn.transaction():
            yield conn

    def _rest(self) -> None:
        self._resting_until = time.monotonic() + RESTING_SECONDS

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


_pools: WeakKeyDictionary[Engine, CallPool] = WeakKeyDictionary()


def attach(engine: AsyncEngine, pool: CallPool) -> None:
    """Give `engine` its call pool, closed when the engine is disposed."""
    _pools[engine.sync_engine] = pool
    # AsyncEngine.dispose runs the sync dispose in a greenlet: it may await here.
    event.listen(engine.sync_engine, "engine_disposed", lambda _: await_only(pool.close()))


def call_pool(engine: AsyncEngine) -> CallPool | None:
    return _pools.get(engine.sync_engine)


async def in_transaction(engine: AsyncEngine, work: Callable[[Connection], Awaitable[T]]) -> T:
    """`work` in one transaction on a call-pool connection; on the engine's (its
    driver connection: the same psycopg calls) when the pool cannot serve or the
    connection was lost under `work` — whose outcome is then unknown: `work` must be
    safe to run again (a version or a key makes a repeat change nothing). What `work`
    raises is psycopg's own error on both paths; the engine's checkout and commit
    raise SQLAlchemy's: db/refusals.py tells both apart alike."""
    pool = call_pool(engine)
    if pool is not None:
        try:
            async with pool.transaction() as conn:
                return await work(conn)
        except Unavailable:
            pass
        except psycopg.Error as error:
            if not failures.driver_unreachable(error):
                raise
    async with engine.begin() as connection:
        raw = await connection.get_raw_connection()
        driver: Connection = raw.driver_connection  # type: ignore[assignment]
        return await work(driver)
