"""Two one-call stock operations under one idempotency key, held to meet inside
their server-side functions: WIDGET's level row is locked by another transaction
until both calls wait on a lock, then let go."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text

from tests.integration.stock_world import World

LEVEL = (
    "SELECT 1 FROM stock_levels s JOIN items i ON i.id = s.item_id"
    " WHERE i.tenant_id = :t AND i.sku = 'WIDGET' FOR UPDATE OF s"
)
WAITING = (
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE wait_event_type = 'Lock' AND query LIKE :call AND datname = current_database()"
)


@asynccontextmanager
async def level_held(world: World) -> AsyncIterator[None]:
    """WIDGET's level locked by another transaction until the block ends."""
    async with world.sessions() as session, session.begin():
        await session.execute(text(LEVEL), {"t": world.tenant_id})
        yield


async def both_waiting(world: World, call: str, calls: list[asyncio.Task[Any]]) -> bool:
    """Until two calls of `call` wait on a lock (True), or one has ended or 5 s
    passed (False: they did not meet inside their functions)."""
    for _ in range(500):
        async with world.sessions() as session:  # a new transaction sees activity anew
            waiting = await session.scalar(text(WAITING), {"call": f"SELECT {call}(%"})
        if waiting == 2:
            return True
        if any(c.done() for c in calls):
            return False
        await asyncio.sleep(0.01)
    return False


async def at_once(world: World, call: str, *operations: Awaitable[Any]) -> list[Any]:
    """The operations' outcomes (or exceptions), started while the level is held and
    let go once both wait inside `call`; fails when they never both did."""
    async with level_held(world):
        calls = [asyncio.ensure_future(op) for op in operations]
        met = await both_waiting(world, call, calls)
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    assert met, f"the calls never both waited inside {call}: {outcomes}"
    return outcomes


async def records(world: World, key: str) -> int:
    async with world.sessions() as session:
        count = await session.scalar(
            text("SELECT count(*) FROM idempotency_records WHERE tenant_id = :t AND key = :k"),
            {"t": world.tenant_id, "k": key},
        )
    return int(count or 0)
