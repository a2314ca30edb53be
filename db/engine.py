"""Engine and session factory, built once by the process that owns them."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from db import failures
from db.call_pool import CallPool, attach
from settings import Settings


def session_options(statement_timeout_ms: int, lock_timeout_ms: int) -> str:
    """libpq `options`: the server cancels a statement (or a lock wait) running
    longer than this, so no request waits on the database without bound (0: none)."""
    return f"-c statement_timeout={statement_timeout_ms} -c lock_timeout={lock_timeout_ms}"


def create_engine(settings: Settings, *, worker: bool = False) -> AsyncEngine:
    """The API's and the CLI's engine; `worker`: the worker's, whose statements may
    run longer (OMS_WORKER_STATEMENT_TIMEOUT_MS) and whose lock waits only that
    bounds (a stock step queues behind others on a busy row, then retries)."""
    statement_timeout_ms = settings.database_statement_timeout_ms
    lock_timeout_ms = settings.database_lock_timeout_ms
    if worker:
        statement_timeout_ms, lock_timeout_ms = settings.worker_statement_timeout_ms, 0
    connect_args = {
        "connect_timeout": settings.database_connect_timeout_seconds,
        "options": session_options(statement_timeout_ms, lock_timeout_ms),
    }
    engine = create_async_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        pool_timeout=settings.database_pool_timeout_seconds,
        # A connection that died in the pool (Postgres restarted) is replaced at
        # checkout instead of failing the request that drew it; what dies during
        # use is retried by the API for reads and keyed writes (api/retry.py) and
        # by stock operations under their idempotency key (db/stock/operation.py).
        pool_pre_ping=settings.database_pool_pre_ping,
        pool_recycle=300,
        connect_args=connect_args,
    )
    event.listen(engine.sync_engine, "handle_error", _server_ended_session)
    pool = CallPool(
        settings.database_url,
        connect_args,
        max_size=settings.database_pool_size,
        timeout=settings.database_pool_timeout_seconds,
    )
    attach(engine, pool)
    return engine


def _server_ended_session(context: ExceptionContext) -> None:
    """The server ended this session (it was shut down or restarted): the connection
    is dead though the driver has not noticed yet. Say so, so SQLAlchemy drops it and
    the pooled ones opened before it, and the error reads as a lost connection."""
    if failures.server_ended_session(context.original_exception):
        context.is_disconnect = True


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
