"""The relay on real Temporal (dev server) and PostgreSQL, to a real receiver that
verifies every signature: committed events reach it in each subject's order; an
event committed while no relay runs goes once one starts; two relays at once
deliver each event once; one pass publishes batch after batch until a batch is not
full, waking the endpoints after each, and reads once while commits keep coming
(what commits after its read notifies the next pass)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from db.events import Published, publish_pending
from domain.events import EventType
from observability.metrics import WorkerMetrics
from tests.integration.webhook_helpers import (
    Endpoints,
    delivering_worker,
    new_tenant,
    publish_all,
    settled,
    write_events,
)
from tests.integration.webhook_receiver import Receiver, running
from webhooks import relay as relay_module
from webhooks.relay import Relay
from webhooks.signing import new_secret

CHANGED = EventType.ORDER_STATUS_CHANGED
WRITERS = 4  # committing at once, as fast as they can


@pytest.fixture
async def queue(
    dev_env: WorkflowEnvironment, database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[str]:
    async with delivering_worker(dev_env, database_url, sessions, "relay") as queue:
        yield queue


def _relay(
    sessions: async_sessionmaker[AsyncSession],
    dev_env: WorkflowEnvironment,
    database_url: str,
    queue: str,
    metrics: WorkerMetrics | None = None,
) -> Relay:
    return Relay(
        sessions,
        dev_env.client,
        database_url=database_url,
        task_queue=queue,
        metrics=None if metrics is None else metrics.webhooks,
    )


async def test_committed_events_reach_the_receiver_in_each_subjects_order(
    sessions: async_sessionmaker[AsyncSession],
    dev_env: WorkflowEnvironment,
    database_url: str,
    queue: str,
    endpoints: Endpoints,
) -> None:
    secret = new_secret()
    tenant = await new_tenant(sessions)
    metrics = WorkerMetrics()
    relay = _relay(sessions, dev_env, database_url, queue, metrics)
    async with running(Receiver([secret])) as receiver:
        endpoint = await endpoints.add(tenant, receiver.url, secret, patterns=["order.*"])
        relay.start()
        try:
            await asyncio.wait_for(relay.listening.wait(), 10)
            for _ in range(3):  # each change commits an event of SO-A and of SO-B
                await write_events(sessions, tenant, [(CHANGED, "SO-A"), (CHANGED, "SO-B")])
            await write_events(sessions, tenant, [(EventType.ALERT_RAISED, "1")])  # filtered
            await receiver.wait_for(6)
        finally:
            await relay.stop()
    assert receiver.forged == []
    got = receiver.delivered()
    by_subject = {
        s: [e["sequence"] for e in got if e["subject"]["id"] == s] for s in ("SO-A", "SO-B")
    }
    assert by_subject == {"SO-A": [1, 2, 3], "SO-B": [1, 2, 3]}
    assert {e["type"] for e in got} == {"order.status_changed"}
    # different subjects do not wait for each other: they interleave
    order = [e["subject"]["id"] for e in got]
    assert order.index("SO-B") < len(order) - 1 - order[::-1].index("SO-A")
    rows = await settled(sessions, endpoint, 6)
    assert [r["status"] for r in rows] == ["delivered"] * 6
    assert (metrics.registry.get_sample_value("oms_events_published_total") or 0) >= 7
    assert metrics.registry.get_sample_value("oms_webhook_retry_backlog") is not None


async def test_an_event_committed_while_no_relay_runs_is_delivered_once_one_starts(
    sessions: async_sessionmaker[AsyncSession],
    dev_env: WorkflowEnvironment,
    database_url: str,
    queue: str,
    endpoints: Endpoints,
) -> None:
    secret = new_secret()
    tenant = await new_tenant(sessions)
    async with running(Receiver([secret])) as receiver:
        await endpoints.add(tenant, receiver.url, secret)
        (event_id,) = await write_events(sessions, tenant, [(CHANGED, "SO-LATE")])
        relay = _relay(sessions, dev_env, database_url, queue)
        relay.start()
        try:
            await receiver.wait_for(1)
        finally:
            await relay.stop()
    assert receiver.ids() == [event_id]


async def test_two_relays_at_once_deliver_each_event_once_under_its_own_id(
    sessions: async_sessionmaker[AsyncSession],
    dev_env: WorkflowEnvironment,
    database_url: str,
    queue: str,
    endpoints: Endpoints,
) -> None:
    secret = new_secret()
    tenant = await new_tenant(sessions)
    relays = [_relay(sessions, dev_env, database_url, queue) for _ in range(2)]
    async with running(Receiver([secret])) as receiver:
        first = await endpoints.add(tenant, receiver.url, secret)
        second = await endpoints.add(tenant, receiver.url, secret)
        for relay in relays:
            relay.start()
        try:
            written: list[str] = []
            for n in range(20):
                written += await write_events(
                    sessions, tenant, [(CHANGED, f"SO-{n % 5}"), (CHANGED, f"SO-{n % 7}")]
                )
            await receiver.wait_for(2 * len(written))
        finally:
            for relay in relays:
                await relay.stop()
    assert receiver.forged == []
    # each event once per endpoint, always under the event's own id
    assert Counter(receiver.ids()) == {event_id: 2 for event_id in written}
    for endpoint in (first, second):
        rows = await settled(sessions, endpoint, len(written))
        assert [(r["status"], r["attempts"]) for r in rows] == [("delivered", 1)] * len(written)


async def test_one_pass_publishes_batch_after_batch_until_a_batch_is_not_full(
    sessions: async_sessionmaker[AsyncSession],
    dev_env: WorkflowEnvironment,
    database_url: str,
    queue: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(relay_module, "PUBLISH_BATCH", 2)
    tenant = await new_tenant(sessions)
    written = await write_events(sessions, tenant, [(CHANGED, f"SO-{n}") for n in range(5)])
    relay = _relay(sessions, dev_env, database_url, queue)
    wake, wakes = relay._wake, 0

    async def counted() -> int:
        nonlocal wakes
        wakes += 1
        return await wake()

    monkeypatch.setattr(relay, "_wake", counted)
    await relay.relay_pending()  # no listener
    assert wakes >= 3  # after each batch (2, 2, 1 and what others left): none held back
    async with sessions() as session:
        positions = list(
            await session.scalars(
                text("SELECT position FROM events WHERE event_id = ANY(:ids)"), {"ids": written}
            )
        )
    assert len(positions) == 5 and None not in positions


async def test_a_pass_reads_once_while_commits_keep_coming(
    sessions: async_sessionmaker[AsyncSession],
    dev_env: WorkflowEnvironment,
    database_url: str,
    queue: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A pass publishes what was pending when it read (a batch not full), then goes
    on to wake the endpoints: under a steady stream of commits it must not read
    again and again (each batch finding a few new events) and wake no one meanwhile;
    what commits after its read notifies the next pass."""
    await publish_all(sessions)  # what other tests left
    monkeypatch.setattr(relay_module, "PUBLISH_BATCH", 10**6)  # never full, however fast
    reads = 0

    async def counted(session: AsyncSession, **kwargs: Any) -> Published | None:
        nonlocal reads
        published = await publish_pending(session, **kwargs)
        reads += published is not None  # (None: another relay was publishing)
        return published

    monkeypatch.setattr(relay_module, "publish_pending", counted)
    tenant = await new_tenant(sessions)
    pass_done = asyncio.Event()

    async def stream(n: int) -> None:  # one event per transaction, until the pass ends
        while not pass_done.is_set():
            await write_events(sessions, tenant, [(CHANGED, f"SO-{n}")])

    async def one_pass() -> None:
        await asyncio.sleep(0.1)  # the stream is under way
        await _relay(sessions, dev_env, database_url, queue).relay_pending()
        pass_done.set()

    await asyncio.gather(*(stream(n) for n in range(WRITERS)), one_pass())
    assert reads == 1
