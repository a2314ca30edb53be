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
(tests/integration/test_stock_calls*.py compare them). `call_all` does the same
for a step of several operations in one call (db/stock/steps.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast

import psycopg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.call_pool import Unavailable, call_pool
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
R = TypeVar("R")

DEFER = "OMS01"  # the function left the call to the reference implementation


async def _answer(
    sessions: async_sessionmaker[AsyncSession], operation: str, sql: str, params: Sequence[Any]
) -> Any:
    """The function's answer; None when the reference is to run instead: the function
    deferred, no call connection works, or the call failed in a way the reference
    reports as every database access does (a timeout, a lost connection: its outcome
    unknown, the key replays it if it committed). A deadlock or a serialization
    failure is tried again here."""
    pool = call_pool(sessions.kw["bind"])
    if pool is None:
        return None
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            async with pool.connection() as conn:
                row = await (await conn.execute(sql, params, prepare=True)).fetchone()
                assert row is not None
                return row[0]
        except Unavailable:
            return None
        except psycopg.Error as error:
            if error.sqlstate == DEFER:
                return None
            if error.sqlstate not in RETRYABLE_SQLSTATES or attempt == MAX_ATTEMPTS:
                log.warning("%s: %s; through the engine instead", operation, error)
                return None
            log.info("%s: %s, retrying (attempt %d)", operation, error.sqlstate, attempt)
            await asyncio.sleep(0.01 * 2**attempt)
    return None


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
        answer = await _answer(sessions, operation, sql, params(digest))
        if answer is not None:
            return _result(caller, operation, digest, answer, result_type)
        count.counted = False
    return await reference()


async def call_all(
    sessions: async_sessionmaker[AsyncSession],
    operation: str,
    calls: Sequence[tuple[Caller, Any]],
    result_type: type[T],
    sql: str,
    params: Callable[[list[str]], Sequence[Any]],
    reference: Callable[[], Awaitable[list[R]]],
) -> list[T] | list[R]:
    """`call` for a step's operations (a caller and a command each): `sql` runs
    them all as one statement, so all are kept or none, and answers each in the
    order asked; when it defers, `reference` runs them all (in one transaction
    too)."""
    if not calls:
        return []
    digests = [request_hash(operation, command, type(command)) for _, command in calls]
    with stock_operation(operation, len(calls)) as count:
        answers = await _answer(sessions, operation, sql, params(digests))
        if answers is not None:
            return [
                _result(caller, operation, digest, answer, result_type)
                for (caller, _), digest, answer in zip(calls, digests, answers, strict=True)
            ]
        count.counted = False
    return await reference()


def _result(caller: Caller, operation: str, digest: str, answer: Any, result_type: type[T]) -> T:
    """What a function answered for one operation: its result, or its key's record."""
    if "replay" in answer:
        return cast(T, replay(caller, operation, digest, answer["replay"], result_type))
    return cast(T, adapter(cast(Any, result_type)).validate_python(answer["result"]))
