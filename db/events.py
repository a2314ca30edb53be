"""The outbox: events written in the transaction of the change that causes them, and
the relay's step that publishes committed events to the feed and to the endpoints
subscribed to them.

Why it holds:
* an event commits or rolls back with its change, so none is lost or invented; a
  change that is a repeat (an idempotent replay) writes no event, because the caller
  writes events only for what its statement changed;
* events of one subject are numbered under a lock of the subject's counter row, so
  a subject's sequence is the order its changes committed in, and the event's id
  (drawn after the number) follows the same order;
* the feed's `position` is given by one relay at a time (an advisory lock) to
  committed events only, so a reader that has seen position P never later finds a
  new event below P.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.events import StoredEvent
from domain.events import VERSIONS, WILDCARD, NewEvent, matches

NOTIFY_CHANNEL = "oms_events"  # NOTIFY at commit of every event and re-queued delivery
_RELAY_LOCK = 0x0E7E_7701  # pg advisory lock held by the one relay publishing now
PUBLISH_BATCH = 500  # events the relay publishes per transaction


async def record_events(session: AsyncSession, events: Sequence[NewEvent]) -> None:
    """Write `events` in the caller's transaction (one statement), numbered per
    subject in the order given; the relay is told at commit."""
    if events:
        await session.flush()  # as session.execute would: the statements keep their order
        connection = await session.connection()
        await connection.exec_driver_sql(RECORD_EVENTS, _record_params(events))


async def write_events(conn: psycopg.AsyncConnection[Any], events: Sequence[NewEvent]) -> None:
    """`record_events` on a psycopg connection, in its transaction (db/call_pool.py)."""
    if events:
        await conn.execute(RECORD_EVENTS, _record_params(events), prepare=True)


def _record_params(events: Sequence[NewEvent]) -> dict[str, Any]:
    return {
        "t": [e.tenant_id for e in events],
        "type": [e.type.value for e in events],
        "v": [VERSIONS[e.type] for e in events],
        "st": [e.subject.value for e in events],
        "sid": [e.subject_id for e in events],
        "data": json.dumps([dict(e.data) for e in events]),
        "channel": NOTIFY_CHANNEL,
    }


# Each subject's counter moves by the number of its events in the batch (one locked
# row per subject); each event takes counter - (its events after it in the batch).
# Written once in psycopg's style: sent as it is by the session (exec_driver_sql, its
# errors wrapped as every SQLAlchemy error) and by a call-pool connection.
RECORD_EVENTS = """
    WITH input AS (
        SELECT v.*, d.data,
               count(*) OVER (PARTITION BY v.t, v.st, v.sid) AS n_subject,
               row_number() OVER (PARTITION BY v.t, v.st, v.sid ORDER BY v.n) AS k
        FROM unnest(CAST(%(t)s AS bigint[]), CAST(%(type)s AS text[]), CAST(%(v)s AS int[]),
                    CAST(%(st)s AS text[]), CAST(%(sid)s AS text[]))
             WITH ORDINALITY AS v(t, type, v, st, sid, n)
        JOIN jsonb_array_elements(CAST(%(data)s AS jsonb)) WITH ORDINALITY AS d(data, n)
             ON d.n = v.n
    ), counters AS (
        INSERT INTO event_subjects AS s (tenant_id, subject_type, subject_id, last_sequence)
        SELECT DISTINCT t, st, sid, n_subject FROM input
        ORDER BY t, st, sid
        ON CONFLICT (tenant_id, subject_type, subject_id)
        DO UPDATE SET last_sequence = s.last_sequence + excluded.last_sequence
        RETURNING tenant_id, subject_type, subject_id, last_sequence
    ), written AS (
        INSERT INTO events (event_id, tenant_id, type, version, subject_type, subject_id,
                            sequence, data)
        SELECT 'evt_' || replace(CAST(gen_random_uuid() AS text), '-', ''), i.t, i.type, i.v,
               i.st, i.sid, c.last_sequence - i.n_subject + i.k, i.data
        FROM input i JOIN counters c
             ON (c.tenant_id, c.subject_type, c.subject_id) = (i.t, i.st, i.sid)
        ORDER BY i.n
        RETURNING 1
    )
    SELECT pg_notify(%(channel)s, ''), (SELECT count(*) FROM written)
"""


# -- the relay's step -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Published:
    events: int  # events given their feed position in this step
    deliveries: int  # deliveries queued for subscribed endpoints


async def publish_pending(session: AsyncSession, *, limit: int = PUBLISH_BATCH) -> Published | None:
    """In the caller's transaction: give committed events not yet published their
    feed positions (oldest first) and queue a delivery for each enabled endpoint of
    their tenant that subscribes to their type and existed when they occurred. None
    when another relay is publishing now."""
    if not await session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _RELAY_LOCK}):
        return None
    rows = (
        await session.execute(
            text(
                "SELECT id, tenant_id, type, subject_type, subject_id, sequence, occurred_at"
                " FROM events WHERE position IS NULL ORDER BY id LIMIT :limit"
            ),
            {"limit": limit},
        )
    ).all()
    if not rows:
        return Published(events=0, deliveries=0)
    positions = sorted(
        await session.scalars(
            text("SELECT nextval('event_positions') FROM generate_series(1, :n)"),
            {"n": len(rows)},
        )
    )
    await session.execute(
        text(
            "UPDATE events e SET position = v.p FROM unnest(CAST(:ids AS bigint[]),"
            " CAST(:ps AS bigint[])) AS v(id, p) WHERE e.id = v.id"
        ),
        {"ids": [r.id for r in rows], "ps": positions},
    )
    deliveries = _deliveries(rows, await _subscriptions(session, {r.tenant_id for r in rows}))
    if deliveries:
        await session.execute(
            text(
                "INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id, subject_key,"
                " sequence, next_attempt_at)"
                " SELECT t, e, ev, k, s, now() FROM unnest(CAST(:t AS bigint[]),"
                " CAST(:e AS bigint[]), CAST(:ev AS bigint[]), CAST(:k AS text[]),"
                " CAST(:s AS bigint[])) AS v(t, e, ev, k, s)"
                " ON CONFLICT (endpoint_id, event_id) DO NOTHING"
            ),
            {
                "t": [d[0] for d in deliveries],
                "e": [d[1] for d in deliveries],
                "ev": [d[2] for d in deliveries],
                "k": [d[3] for d in deliveries],
                "s": [d[4] for d in deliveries],
            },
        )
    return Published(events=len(rows), deliveries=len(deliveries))


@dataclass(frozen=True, kw_only=True)
class _Subscription:
    endpoint_id: int
    patterns: list[str]
    since: datetime


async def _subscriptions(
    session: AsyncSession, tenants: set[int]
) -> dict[int, list[_Subscription]]:
    rows = await session.execute(
        text(
            "SELECT id, tenant_id, event_types, created_at FROM webhook_endpoints"
            " WHERE tenant_id = ANY(:t) AND enabled ORDER BY id"
        ),
        {"t": sorted(tenants)},
    )
    by_tenant: dict[int, list[_Subscription]] = {}
    for r in rows:
        by_tenant.setdefault(r.tenant_id, []).append(
            _Subscription(endpoint_id=r.id, patterns=list(r.event_types), since=r.created_at)
        )
    return by_tenant


def _deliveries(
    events: Sequence[Any], subscriptions: dict[int, list[_Subscription]]
) -> list[tuple[int, int, int, str, int]]:
    """(tenant, endpoint, event, subject key, sequence) for each subscribed endpoint."""
    return [
        (e.tenant_id, s.endpoint_id, e.id, f"{e.subject_type}:{e.subject_id}", e.sequence)
        for e in events
        for s in subscriptions.get(e.tenant_id, [])
        if s.since <= e.occurred_at and matches(s.patterns, e.type)
    ]


async def deliveries_to_wake(
    session: AsyncSession, *, limit: int = 1000
) -> dict[tuple[int, int], list[int]]:
    """Pending deliveries whose endpoint's workflow has not been woken for them (new
    events, a redelivery, a replay, an endpoint enabled again), by (tenant, endpoint), locked
    until the caller's transaction ends. Wake each endpoint, then `mark_woken` in the
    same transaction: a delivery queued again meanwhile waits for this lock and is
    left undispatched, so no wake is lost."""
    rows = await session.execute(
        text(
            "SELECT d.id, d.tenant_id, d.endpoint_id FROM webhook_deliveries d"
            " JOIN webhook_endpoints w ON w.id = d.endpoint_id"
            " WHERE d.status = 'pending' AND NOT d.dispatched AND w.enabled"
            " ORDER BY d.id LIMIT :limit FOR UPDATE OF d SKIP LOCKED"
        ),
        {"limit": limit},
    )
    by_endpoint: dict[tuple[int, int], list[int]] = {}
    for delivery_id, tenant_id, endpoint_id in rows:
        by_endpoint.setdefault((int(tenant_id), int(endpoint_id)), []).append(int(delivery_id))
    return by_endpoint


async def mark_woken(session: AsyncSession, delivery_ids: list[int]) -> None:
    """These deliveries' endpoint workflow was woken: they are dispatched."""
    await session.execute(
        text("UPDATE webhook_deliveries SET dispatched = true WHERE id = ANY(:ids)"),
        {"ids": delivery_ids},
    )


# -- reading --------------------------------------------------------------------------

_STORED = (
    "SELECT e.id AS row_id, e.event_id, e.tenant_id, t.slug AS tenant, e.type, e.version,"
    " e.subject_type, e.subject_id, e.sequence, e.occurred_at, e.data, e.position"
    " FROM events e JOIN tenants t ON t.id = e.tenant_id"
)


def _stored(row: Any) -> StoredEvent:
    fields = dict(row._mapping)
    del fields["row_id"]
    return StoredEvent(**fields)


async def load_events(session: AsyncSession, ids: Sequence[int]) -> dict[int, StoredEvent]:
    """Events by their row id (what deliveries point at)."""
    rows = await session.execute(text(f"{_STORED} WHERE e.id = ANY(:ids)"), {"ids": list(ids)})
    return {r.row_id: _stored(r) for r in rows}


def type_filter(patterns: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """SQL (on events `e`) and its parameters keeping the events whose type
    `patterns` subscribe to, as `domain.events.matches` says (`order.*`, `*`)."""
    if WILDCARD in patterns:
        return "true", {}
    exact = [p for p in patterns if not p.endswith("*")]
    subjects = [p[:-2] for p in patterns if p.endswith(".*")]
    return (
        "(e.type = ANY(:exact) OR e.subject_type = ANY(:subjects))",
        {"exact": exact, "subjects": subjects},
    )


async def read_feed(
    session: AsyncSession,
    tenant_id: int,
    *,
    after: int | None,
    types: Sequence[str] = (),
    subject: tuple[str, str] | None = None,
    limit: int,
) -> list[StoredEvent]:
    """A tenant's published events after feed position `after`, oldest first;
    `types`: patterns as endpoints subscribe with (`order.*`), all when empty;
    `subject`: (type, id) of the one subject to read, all when None."""
    where = "e.tenant_id = :t AND e.position IS NOT NULL AND e.position > :after"
    params: dict[str, Any] = {"t": tenant_id, "after": after or 0, "limit": limit}
    if subject is not None:
        where += " AND e.subject_type = :st AND e.subject_id = :sid"
        params |= {"st": subject[0], "sid": subject[1]}
    if types:
        condition, type_params = type_filter(types)
        where += f" AND {condition}"
        params |= type_params
    rows = await session.execute(
        text(f"{_STORED} WHERE {where} ORDER BY e.position LIMIT :limit"), params
    )
    return [_stored(r) for r in rows]


async def requeue_overdue(session: AsyncSession, grace: timedelta) -> int:
    """Deliveries due longer than `grace` ago and still pending, though their
    endpoint's workflow was woken (its run was terminated, reset or lost): to be
    woken again; how many."""
    requeued = await session.scalars(
        text(
            "UPDATE webhook_deliveries d SET dispatched = false FROM webhook_endpoints w"
            " WHERE w.id = d.endpoint_id AND w.enabled AND d.status = 'pending'"
            " AND d.dispatched AND d.next_attempt_at < now() - CAST(:grace AS interval)"
            " RETURNING d.id"
        ),
        {"grace": grace},
    )
    return len(requeued.all())
