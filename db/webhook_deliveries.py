"""A tenant's webhook deliveries as the admin API shows them (each with its
attempts), and the two ways to send events again: one delivery (redeliver) or
every published event of a time range an endpoint subscribes to (replay).

Sending again starts a fresh retry schedule: the delivery is pending, due now,
its schedule's count of failed attempts (`attempts`) back at 0, not yet
dispatched (the relay wakes the endpoint's workflow at commit). The attempts
already made stay in webhook_attempts and are still shown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.events import type_filter
from db.models import WebhookEndpoint
from db.webhooks import get_endpoint, notify_relay
from domain.errors import Conflict, InvalidInput, NotFound

# A replay covers at most this long a range, and queues about this many events
# (events written together are never split; the answer says where to go on from).
MAX_REPLAY_RANGE = timedelta(days=31)
MAX_REPLAY_EVENTS = 10_000
# The attempts shown with a delivery: the latest ones.
SHOWN_ATTEMPTS = 20


@dataclass(frozen=True, kw_only=True)
class AttemptView:
    attempted_at: datetime
    status_code: int | None
    error: str | None
    latency_ms: int


@dataclass(frozen=True, kw_only=True)
class DeliveryView:
    id: int
    endpoint_id: int
    event_id: str
    event_type: str
    subject_type: str
    subject_id: str
    sequence: int
    status: str
    scheduled_attempts: int  # failed attempts in the current retry schedule
    attempt_count: int  # every attempt ever made
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    last_latency_ms: int | None
    delivered_at: datetime | None
    created_at: datetime
    attempts: list[AttemptView]


@dataclass(frozen=True, kw_only=True)
class DeliveryFilter:
    endpoint_id: int | None = None
    status: str | None = None
    event_id: str | None = None  # evt_…


_DELIVERIES = """
    SELECT d.id, d.endpoint_id, e.event_id, e.type AS event_type, e.subject_type,
           e.subject_id, d.sequence, d.status, d.attempts AS scheduled_attempts,
           (SELECT count(*) FROM webhook_attempts a WHERE a.delivery_id = d.id)
               AS attempt_count,
           d.next_attempt_at, d.last_attempt_at, d.last_status_code, d.last_error,
           d.last_latency_ms, d.delivered_at, d.created_at
    FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
    WHERE d.tenant_id = :t
"""


async def list_deliveries(
    session: AsyncSession,
    tenant_id: int,
    where: DeliveryFilter,
    *,
    before: int | None,
    limit: int,
) -> list[DeliveryView]:
    """A tenant's deliveries, newest first."""
    sql = _DELIVERIES
    params: dict[str, Any] = {"t": tenant_id, "limit": limit}
    for condition, name, value in (
        ("d.endpoint_id = :endpoint", "endpoint", where.endpoint_id),
        ("d.status = :status", "status", where.status),
        ("e.event_id = :event", "event", where.event_id),
        ("d.id < :before", "before", before),
    ):
        if value is not None:
            sql += f" AND {condition}"
            params[name] = value
    rows = (await session.execute(text(f"{sql} ORDER BY d.id DESC LIMIT :limit"), params)).all()
    return await _with_attempts(session, rows)


async def get_delivery(session: AsyncSession, tenant_id: int, delivery_id: int) -> DeliveryView:
    rows = (
        await session.execute(
            text(f"{_DELIVERIES} AND d.id = :id"), {"t": tenant_id, "id": delivery_id}
        )
    ).all()
    if not rows:
        raise NotFound(f"webhook delivery {delivery_id} does not exist", field="id")
    return (await _with_attempts(session, rows))[0]


async def _with_attempts(session: AsyncSession, rows: Sequence[Any]) -> list[DeliveryView]:
    ids = [r.id for r in rows]
    attempts: dict[int, list[AttemptView]] = {i: [] for i in ids}
    if ids:
        found = await session.execute(
            text(
                "SELECT delivery_id, attempted_at, status_code, error, latency_ms FROM ("
                "  SELECT a.*, row_number() OVER (PARTITION BY delivery_id ORDER BY id DESC) AS r"
                "  FROM webhook_attempts a WHERE delivery_id = ANY(:ids)"
                ") latest WHERE r <= :n ORDER BY delivery_id, id"
            ),
            {"ids": ids, "n": SHOWN_ATTEMPTS},
        )
        for a in found:
            attempts[a.delivery_id].append(
                AttemptView(
                    attempted_at=a.attempted_at,
                    status_code=a.status_code,
                    error=a.error,
                    latency_ms=a.latency_ms,
                )
            )
    return [DeliveryView(**r._mapping, attempts=attempts[r.id]) for r in rows]


# What sending a delivery again sets: a fresh schedule, due now, to be dispatched.
_AGAIN = (
    "status = 'pending', attempts = 0, next_attempt_at = now(), dispatched = false,"
    " delivered_at = NULL"
)


async def redeliver(session: AsyncSession, tenant_id: int, delivery_id: int) -> DeliveryView:
    """Send the delivery again (whatever its status) with a fresh schedule; refused
    while its endpoint is disabled."""
    row = (
        await session.execute(
            text(
                "SELECT d.endpoint_id FROM webhook_deliveries d"
                " WHERE d.tenant_id = :t AND d.id = :id FOR UPDATE"
            ),
            {"t": tenant_id, "id": delivery_id},
        )
    ).first()
    if row is None:
        raise NotFound(f"webhook delivery {delivery_id} does not exist", field="id")
    await _enabled_endpoint(session, tenant_id, row.endpoint_id)
    await session.execute(
        text(f"UPDATE webhook_deliveries SET {_AGAIN} WHERE id = :id"), {"id": delivery_id}
    )
    await notify_relay(session)
    return await get_delivery(session, tenant_id, delivery_id)


@dataclass(frozen=True, kw_only=True)
class Replayed:
    created: int  # deliveries made for events the endpoint had none of
    requeued: int  # existing deliveries sent again
    next_since: datetime | None  # more events matched: replay again from here


async def replay(
    session: AsyncSession,
    tenant_id: int,
    endpoint_id: int,
    *,
    since: datetime,
    until: datetime | None,
    limit: int = MAX_REPLAY_EVENTS,
) -> Replayed:
    """Send again the tenant's published events that occurred in [since, until) and
    that the endpoint subscribes to, oldest first: about `limit` of them, the cut
    made between two instants (events written together share theirs), so that
    `next_since` always moves on."""
    endpoint = await _enabled_endpoint(session, tenant_id, endpoint_id)
    until = until or await session.scalar(text("SELECT now()"))
    assert until is not None
    if until <= since:
        raise InvalidInput("until must be after since", field="until")
    if until - since > MAX_REPLAY_RANGE:
        raise InvalidInput(
            f"a replay covers at most {MAX_REPLAY_RANGE.days} days; replay in parts",
            field="until",
        )
    condition, params = type_filter(endpoint.event_types)
    params |= {"t": tenant_id, "e": endpoint_id, "since": since, "until": until, "n": limit}
    in_range = (
        "FROM events e WHERE e.tenant_id = :t AND e.position IS NOT NULL"
        f" AND e.occurred_at >= :since AND e.occurred_at < :until AND {condition}"
    )
    # the instant of the limit-th event: the replay takes every event up to it
    params["edge"] = await session.scalar(
        text(f"SELECT e.occurred_at {in_range} ORDER BY e.occurred_at, e.id OFFSET :n - 1 LIMIT 1"),
        params,
    )
    if params["edge"] is not None:
        in_range += " AND e.occurred_at <= :edge"
    result = (await session.execute(text(_REPLAY.format(in_range=in_range)), params)).one()
    next_since = None
    if params["edge"] is not None:
        next_since = await session.scalar(
            text(
                "SELECT min(e.occurred_at) FROM events e WHERE e.tenant_id = :t"
                " AND e.position IS NOT NULL AND e.occurred_at > :edge AND e.occurred_at < :until"
                f" AND {condition}"
            ),
            params,
        )
    if result.created or result.requeued:
        await notify_relay(session)
    return Replayed(created=result.created, requeued=result.requeued, next_since=next_since)


# A delivery for each chosen event, or the existing one sent again.
_REPLAY = (
    """
    WITH queued AS (
        INSERT INTO webhook_deliveries AS d (tenant_id, endpoint_id, event_id, subject_key,
                                             sequence, next_attempt_at)
        SELECT :t, :e, e.id, e.subject_type || ':' || e.subject_id, e.sequence, now()
        {in_range}
        ORDER BY e.occurred_at, e.id
        ON CONFLICT (endpoint_id, event_id) DO UPDATE SET """
    + _AGAIN
    + """
        RETURNING (xmax = 0) AS inserted
    )
    SELECT count(*) FILTER (WHERE inserted) AS created,
           count(*) FILTER (WHERE NOT inserted) AS requeued
    FROM queued
"""
)


async def _enabled_endpoint(
    session: AsyncSession, tenant_id: int, endpoint_id: int
) -> WebhookEndpoint:
    endpoint = await get_endpoint(session, tenant_id, endpoint_id)
    if not endpoint.enabled:
        raise Conflict(
            f"webhook endpoint {endpoint_id} is disabled ({endpoint.disabled_reason}); enable "
            "it first (PATCH enabled=true), which sends its pending deliveries again",
            field="endpoint",
        )
    return endpoint
