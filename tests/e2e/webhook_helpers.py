"""Shared steps of the webhook API tests: a tenant's id, endpoints made through the
API, events written and published as the relay does, the rows behind them, and a
listener on the relay's NOTIFY channel."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.events import NOTIFY_CHANNEL, publish_pending, record_events
from db.tenants import get_tenant
from domain.events import EventType, NewEvent
from domain.roles import Role
from tests.conftest import TenantKeys

Sessions = async_sessionmaker[AsyncSession]


async def tenant_id(sessions: Sessions, tenant: TenantKeys) -> int:
    async with sessions() as session:
        return (await get_tenant(session, tenant.slug)).id


async def create_endpoint(
    api: httpx.AsyncClient, tenant: TenantKeys, **body: Any
) -> dict[str, Any]:
    body = {"url": "https://hooks.example.com/oms", "event_types": ["order.*"]} | body
    response = await api.post("/v1/webhook-endpoints", json=body, headers=tenant.auth(Role.ADMIN))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def publish(sessions: Sessions, tenant: int, *events: tuple[EventType, str]) -> None:
    """Write these (type, subject id) events and publish them as the relay does."""
    async with sessions() as session, session.begin():
        await record_events(
            session,
            [NewEvent(tenant_id=tenant, type=t, subject_id=s, data={"id": s}) for t, s in events],
        )
    while True:
        async with sessions() as session, session.begin():
            published = await publish_pending(session)
        if published is not None and published.events == 0:
            return


async def rows(sessions: Sessions, sql: str, **params: Any) -> list[dict[str, Any]]:
    async with sessions() as session:
        return [dict(r._mapping) for r in await session.execute(text(sql), params)]


async def deliveries(sessions: Sessions, endpoint_id: int) -> list[dict[str, Any]]:
    """The endpoint's deliveries (all columns, with the event's id and type), oldest first."""
    return await rows(
        sessions,
        "SELECT d.*, e.event_id AS evt, e.type FROM webhook_deliveries d"
        " JOIN events e ON e.id = d.event_id WHERE d.endpoint_id = :e ORDER BY d.id",
        e=endpoint_id,
    )


async def execute(sessions: Sessions, sql: str, **params: Any) -> None:
    async with sessions() as session, session.begin():
        await session.execute(text(sql), params)


async def add_attempt(
    sessions: Sessions, delivery_id: int, status_code: int | None, error: str | None = None
) -> None:
    """An attempt as the delivery activity records it."""
    params = {"d": delivery_id, "s": status_code, "err": error}
    async with sessions() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, error,"
                " latency_ms) VALUES (:d, now(), :s, :err, 87)"
            ),
            params,
        )
        await session.execute(
            text(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = now(),"
                " last_status_code = :s, last_error = :err, last_latency_ms = 87,"
                " dispatched = true, status = CASE WHEN CAST(:s AS int) BETWEEN 200 AND 299"
                " THEN 'delivered' ELSE status END, delivered_at = CASE"
                " WHEN CAST(:s AS int) BETWEEN 200 AND 299 THEN now() END WHERE id = :d"
            ),
            params,
        )


@contextlib.asynccontextmanager
async def relay_channel(engine: AsyncEngine) -> AsyncIterator[asyncio.Queue[str]]:
    """NOTIFYs on the relay's channel, as they commit."""
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    heard: asyncio.Queue[str] = asyncio.Queue()
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")

        async def listen() -> None:
            async for notice in conn.notifies():
                heard.put_nowait(notice.channel)

        task = asyncio.create_task(listen())
        try:
            yield heard
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
