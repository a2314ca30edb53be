"""Setup shared by the webhook delivery tests: a tenant, endpoints written directly
in the database, events recorded as a change would record them, the relay's
publishing step."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from activities.webhooks import WebhookActivities
from api.event_render import envelope
from contracts.events import StoredEvent
from db.events import publish_pending, record_events
from db.tenants import ensure_tenant
from domain.events import EventType, NewEvent
from settings import Settings
from worker import build_worker


async def render_stored(events: Sequence[StoredEvent]) -> list[bytes]:
    """Bodies with `data` as stored (these tests' events carry made-up data that
    the API's renderers of real subjects would refuse)."""
    return [json.dumps(envelope(e, e.data), default=str).encode() for e in events]


def stored_data_webhooks(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, http: httpx.AsyncClient
) -> WebhookActivities:
    return WebhookActivities(sessions, settings, render_stored, http)


@contextlib.asynccontextmanager
async def delivering_worker(
    env: WorkflowEnvironment,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
    prefix: str,
) -> AsyncIterator[str]:
    """A worker on a queue of its own that delivers to 127.0.0.1 (data as stored);
    its task queue."""
    queue = f"{prefix}-{uuid.uuid4().hex[:8]}"
    settings = Settings(database_url=database_url, webhooks_allow_private_urls=True)
    async with httpx.AsyncClient() as http:
        webhooks = stored_data_webhooks(sessions, settings, http)
        async with build_worker(env.client, sessions, queue, webhooks=webhooks):
            yield queue


async def new_tenant(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session, session.begin():
        tenant = await ensure_tenant(session, f"t-{uuid.uuid4().hex[:10]}")
        return int(tenant.id)


@dataclass
class Endpoints:
    """Endpoints a test adds; disabled after it, so no later relay wakes them."""

    sessions: async_sessionmaker[AsyncSession]
    made: list[int]

    async def add(
        self,
        tenant_id: int,
        url: str,
        secret: str,
        *,
        patterns: Sequence[str] = ("*",),
        previous_secret: str | None = None,
        previous_expires_at: datetime | None = None,
    ) -> int:
        async with self.sessions() as session, session.begin():
            endpoint_id = await session.scalar(
                text(
                    "INSERT INTO webhook_endpoints (tenant_id, url, event_types, secret,"
                    " previous_secret, previous_secret_expires_at)"
                    " VALUES (:t, :u, :p, :s, :ps, :pe) RETURNING id"
                ),
                {
                    "t": tenant_id,
                    "u": url,
                    "p": list(patterns),
                    "s": secret,
                    "ps": previous_secret,
                    "pe": previous_expires_at,
                },
            )
        assert endpoint_id is not None
        self.made.append(int(endpoint_id))
        return int(endpoint_id)

    async def disable_all(self) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                text("UPDATE webhook_endpoints SET enabled = false WHERE id = ANY(:ids)"),
                {"ids": self.made},
            )


async def write_events(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: int,
    events: Sequence[tuple[EventType, str]],
) -> list[str]:
    """Record events (type, subject id) in one transaction; their event ids."""
    async with sessions() as session, session.begin():
        before = await session.scalar(text("SELECT coalesce(max(id), 0) FROM events"))
        await record_events(
            session,
            [
                NewEvent(tenant_id=tenant_id, type=kind, subject_id=subject, data={"id": subject})
                for kind, subject in events
            ],
        )
        ids = await session.scalars(
            text("SELECT event_id FROM events WHERE tenant_id = :t AND id > :b ORDER BY id"),
            {"t": tenant_id, "b": before},
        )
        return list(ids)


async def publish_all(sessions: async_sessionmaker[AsyncSession]) -> None:
    while True:
        async with sessions() as session, session.begin():
            published = await publish_pending(session)
        if published is not None and published.events == 0:
            return


async def deliveries(
    sessions: async_sessionmaker[AsyncSession], endpoint_id: int
) -> list[dict[str, Any]]:
    """The endpoint's deliveries (with their event id and attempt codes), oldest first."""
    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT d.*, e.event_id AS webhook_id, ARRAY(SELECT a.status_code FROM"
                " webhook_attempts a WHERE a.delivery_id = d.id ORDER BY a.id) AS codes"
                " FROM webhook_deliveries d JOIN events e ON e.id = d.event_id"
                " WHERE d.endpoint_id = :e ORDER BY d.id"
            ),
            {"e": endpoint_id},
        )
        return [dict(r._mapping) for r in rows]


async def endpoint_row(
    sessions: async_sessionmaker[AsyncSession], endpoint_id: int
) -> dict[str, Any]:
    async with sessions() as session:
        row = (
            await session.execute(
                text("SELECT * FROM webhook_endpoints WHERE id = :e"), {"e": endpoint_id}
            )
        ).one()
        return dict(row._mapping)


async def settled(
    sessions: async_sessionmaker[AsyncSession], endpoint_id: int, count: int, *, within: float = 30
) -> list[dict[str, Any]]:
    """The endpoint's deliveries once `count` of them are no longer pending (the
    receiver answers before the activity records its answer)."""
    async with asyncio.timeout(within):
        while True:
            rows = await deliveries(sessions, endpoint_id)
            if sum(r["status"] != "pending" for r in rows) >= count:
                return rows
            await asyncio.sleep(0.05)
