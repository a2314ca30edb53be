"""The outbox against a real PostgreSQL: events numbered per subject in commit
order, nothing written by a rolled-back change, the relay's feed positions and the
deliveries it queues for subscribed endpoints."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.events import (
    deliveries_to_wake,
    mark_woken,
    publish_pending,
    read_feed,
    record_events,
    requeue_overdue,
)
from db.webhook_sending import Attempt, due_heads, record_attempts
from domain.deliveries import Answer, after_attempt
from domain.events import EventType, NewEvent
from tests.integration.stock_world import World


async def _events(session: AsyncSession, tenant_id: int) -> list[tuple[str, str, int, int | None]]:
    rows = await session.execute(
        text(
            "SELECT type, subject_id, sequence, position FROM events WHERE tenant_id = :t"
            " ORDER BY id"
        ),
        {"t": tenant_id},
    )
    return [(r.type, r.subject_id, r.sequence, r.position) for r in rows]


async def _publish_all(sessions: async_sessionmaker[AsyncSession]) -> None:
    while True:
        async with sessions() as session, session.begin():
            published = await publish_pending(session)
        if published is not None and published.events == 0:
            return


def _order_event(
    world: World, order: str, kind: EventType = EventType.ORDER_STATUS_CHANGED
) -> NewEvent:
    return NewEvent(tenant_id=world.tenant_id, type=kind, subject_id=order, data={"n": order})


async def test_events_of_one_subject_are_numbered_in_the_order_they_were_written(
    world: World,
) -> None:
    order = f"SO-{uuid.uuid4().hex[:6]}"
    async with world.sessions() as session, session.begin():
        await record_events(
            session,
            [
                _order_event(world, order, EventType.ORDER_CREATED),
                _order_event(world, "other"),
                _order_event(world, order),
            ],
        )
    async with world.sessions() as session, session.begin():
        await record_events(session, [_order_event(world, order, EventType.ORDER_SHIPPED)])
    async with world.sessions() as session:
        rows = await _events(session, world.tenant_id)
    assert [(t, s, n) for t, s, n, _ in rows] == [
        ("order.created", order, 1),
        ("order.status_changed", "other", 1),
        ("order.status_changed", order, 2),
        ("order.shipped", order, 3),
    ]


async def test_a_rolled_back_change_leaves_no_event(world: World) -> None:
    with pytest.raises(RuntimeError):
        async with world.sessions() as session, session.begin():
            await record_events(session, [_order_event(world, "SO-GONE")])
            raise RuntimeError("the change failed")
    async with world.sessions() as session:
        assert await _events(session, world.tenant_id) == []


async def test_concurrent_writers_of_one_subject_get_distinct_gapless_sequences(
    world: World,
) -> None:
    async def write() -> None:
        async with world.sessions() as session, session.begin():
            await record_events(session, [_order_event(world, "SO-HOT")])

    await asyncio.gather(*(write() for _ in range(20)))
    async with world.sessions() as session:
        rows = await _events(session, world.tenant_id)
    assert [n for _, _, n, _ in rows] == list(range(1, 21))


async def test_the_relay_publishes_in_order_and_queues_deliveries_for_subscribers_only(
    world: World,
) -> None:
    async with world.sessions() as session, session.begin():
        endpoints = {}
        for name, patterns in (("orders", ["order.*"]), ("alerts", ["alert.raised"])):
            endpoints[name] = await session.scalar(
                text(
                    "INSERT INTO webhook_endpoints (tenant_id, url, event_types, secret)"
                    " VALUES (:t, 'http://127.0.0.1:9/x', :p, 'whsec_AAAA') RETURNING id"
                ),
                {"t": world.tenant_id, "p": patterns},
            )
    async with world.sessions() as session, session.begin():
        await record_events(
            session,
            [_order_event(world, "SO-1", EventType.ORDER_CREATED), _order_event(world, "SO-1")],
        )
    await _publish_all(world.sessions)
    async with world.sessions() as session:
        rows = await _events(session, world.tenant_id)
        positions = [p for *_, p in rows]
        assert all(p is not None for p in positions)
        assert positions == sorted(p or 0 for p in positions)
        queued = (
            await session.execute(
                text(
                    "SELECT endpoint_id, subject_key, sequence FROM webhook_deliveries"
                    " WHERE tenant_id = :t ORDER BY id"
                ),
                {"t": world.tenant_id},
            )
        ).all()
    assert [tuple(r) for r in queued] == [
        (endpoints["orders"], "order:SO-1", 1),
        (endpoints["orders"], "order:SO-1", 2),
    ]
    async with world.sessions() as session, session.begin():
        wake = await deliveries_to_wake(session)
        mine = wake[(world.tenant_id, endpoints["orders"])]
        assert len(mine) == 2
        await mark_woken(session, mine)
    async with world.sessions() as session, session.begin():
        assert (world.tenant_id, endpoints["orders"]) not in await deliveries_to_wake(session)


async def test_the_feed_reads_published_events_after_a_cursor_filtered_by_type(
    world: World,
) -> None:
    async with world.sessions() as session, session.begin():
        await record_events(
            session,
            [
                _order_event(world, "SO-F", EventType.ORDER_CREATED),
                NewEvent(tenant_id=world.tenant_id, type=EventType.ALERT_RAISED, subject_id="1"),
                _order_event(world, "SO-F", EventType.ORDER_SHIPPED),
            ],
        )
    await _publish_all(world.sessions)
    async with world.sessions() as session:
        every = await read_feed(session, world.tenant_id, after=None, limit=10)
        assert [e.type for e in every] == ["order.created", "alert.raised", "order.shipped"]
        assert {e.tenant for e in every} == {world.slug}
        after_first = await read_feed(
            session, world.tenant_id, after=every[0].position, types=["order.*"], limit=10
        )
        assert [e.type for e in after_first] == ["order.shipped"]
        alerts = await read_feed(
            session, world.tenant_id, after=None, types=["alert.raised"], limit=10
        )
        assert [e.subject_id for e in alerts] == ["1"]


async def _one_delivery(world: World) -> tuple[int, int]:
    """(endpoint, delivery) of one published event to a new endpoint."""
    async with world.sessions() as session, session.begin():
        endpoint = await session.scalar(
            text(
                "INSERT INTO webhook_endpoints (tenant_id, url, event_types, secret)"
                " VALUES (:t, 'http://127.0.0.1:9/x', '{*}', 'whsec_AAAA') RETURNING id"
            ),
            {"t": world.tenant_id},
        )
        await record_events(session, [_order_event(world, f"SO-{uuid.uuid4().hex[:6]}")])
    await _publish_all(world.sessions)
    async with world.sessions() as session:
        delivery = await session.scalar(
            text("SELECT id FROM webhook_deliveries WHERE endpoint_id = :e"), {"e": endpoint}
        )
    assert endpoint is not None and delivery is not None
    return endpoint, delivery


async def test_a_delivery_overdue_after_its_wake_is_woken_again(world: World) -> None:
    endpoint, delivery = await _one_delivery(world)
    async with world.sessions() as session, session.begin():
        await mark_woken(session, [delivery])
        # its run woke and went away (terminated): due 10 minutes ago, still pending
        await session.execute(
            text(
                "UPDATE webhook_deliveries SET next_attempt_at = now() - interval '10 minutes'"
                " WHERE id = :d"
            ),
            {"d": delivery},
        )
    async with world.sessions() as session, session.begin():
        assert await requeue_overdue(session, timedelta(minutes=15)) == 0
        assert await requeue_overdue(session, timedelta(minutes=5)) >= 1
        assert delivery in (await deliveries_to_wake(session))[(world.tenant_id, endpoint)]


async def test_an_attempt_does_not_overwrite_a_redelivery_made_while_it_was_sent(
    world: World,
) -> None:
    _, delivery = await _one_delivery(world)
    async with world.sessions() as session:
        (taken,) = await due_heads(
            session,
            (
                await session.scalar(
                    text("SELECT endpoint_id FROM webhook_deliveries WHERE id = :d"),
                    {"d": delivery},
                )
            ),
            datetime.now(UTC),
            10,
        )
    failed = Attempt(
        delivery_id=delivery,
        due=taken,
        at=datetime.now(UTC),
        answer=Answer(status_code=500, error="HTTP 500"),
        latency_ms=3,
        after=after_attempt(
            Answer(status_code=500, error="HTTP 500"), attempts_before=0, now=datetime.now(UTC)
        ),
    )
    async with world.sessions() as session, session.begin():
        # an admin redelivers while the attempt is in flight: a fresh schedule, due now
        await session.execute(
            text("UPDATE webhook_deliveries SET next_attempt_at = clock_timestamp() WHERE id = :d"),
            {"d": delivery},
        )
    async with world.sessions() as session, session.begin():
        assert await record_attempts(session, [failed]) == set()
    async with world.sessions() as session:
        attempts, recorded = (
            await session.execute(
                text(
                    "SELECT d.attempts, (SELECT count(*) FROM webhook_attempts a"
                    " WHERE a.delivery_id = d.id) FROM webhook_deliveries d WHERE d.id = :d"
                ),
                {"d": delivery},
            )
        ).one()
    assert (attempts, recorded) == (0, 1)  # the schedule is the redelivery's; history kept
