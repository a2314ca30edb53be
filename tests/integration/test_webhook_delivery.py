"""The delivery activity against a real receiver on 127.0.0.1 that verifies every
signature with the standardwebhooks package: lanes per subject, Retry-After, 410,
secret rotation. The activity is called as the endpoint's workflow calls it, with
the workflow's clock passed in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from temporalio.testing import ActivityEnvironment

from activities.webhooks import WebhookActivities
from contracts.events import DeliverDueInput, DeliverDueResult, StoredEvent
from domain.events import EventType
from settings import Settings
from tests.integration.webhook_helpers import (
    Endpoints,
    deliveries,
    endpoint_row,
    new_tenant,
    publish_all,
    render_stored,
    stored_data_webhooks,
    write_events,
)
from tests.integration.webhook_receiver import Receiver, Reply, running
from webhooks.signing import new_secret

SHIPPED = EventType.ORDER_SHIPPED
CHANGED = EventType.ORDER_STATUS_CHANGED


@pytest.fixture
async def webhooks(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[WebhookActivities]:
    settings = Settings(
        database_url=database_url, webhooks_allow_private_urls=True, webhook_timeout_seconds=5
    )
    async with httpx.AsyncClient() as http:
        yield stored_data_webhooks(sessions, settings, http)


async def _deliver(
    webhooks: WebhookActivities, tenant_id: int, endpoint_id: int, now: datetime
) -> DeliverDueResult:
    # as the worker runs it: in an activity's context (it heartbeats)
    return await ActivityEnvironment().run(
        webhooks.deliver_due,
        DeliverDueInput(tenant_id=tenant_id, endpoint_id=endpoint_id, now=now),
    )


async def test_a_later_event_of_a_subject_waits_while_an_earlier_one_retries_and_others_go_on(
    sessions: async_sessionmaker[AsyncSession], webhooks: WebhookActivities, endpoints: Endpoints
) -> None:
    secret = new_secret()
    tenant = await new_tenant(sessions)
    async with running(Receiver([secret])) as receiver:
        endpoint = await endpoints.add(tenant, receiver.url, secret)
        a1, b1, a2 = await write_events(
            sessions, tenant, [(CHANGED, "SO-A"), (CHANGED, "SO-B"), (SHIPPED, "SO-A")]
        )
        await publish_all(sessions)
        receiver.answer(Reply(status=500), webhook_id=a1)
        now = datetime.now(UTC)

        first = await _deliver(webhooks, tenant, endpoint, now)
        assert (first.delivered, first.retrying) == (1, 1)
        assert sorted(receiver.ids()) == sorted([a1, b1])  # a2 waits behind a1
        assert first.next_due is not None and first.next_due > now

        again = await _deliver(webhooks, tenant, endpoint, now)
        assert (again.delivered, again.retrying) == (0, 0)
        assert again.next_due == first.next_due

        later = await _deliver(webhooks, tenant, endpoint, first.next_due)
        # the retry succeeds, and its lane's next event goes in the same call
        assert (later.delivered, later.next_due) == (2, None)
        assert receiver.ids()[2:] == [a1, a2]
        assert receiver.forged == []
        rows = await deliveries(sessions, endpoint)
        assert [(r["webhook_id"], r["status"], r["codes"]) for r in rows] == [
            (a1, "delivered", [500, 200]),
            (b1, "delivered", [200]),
            (a2, "delivered", [200]),
        ]


async def test_a_429_with_retry_after_waits_as_long_as_the_receiver_asks(
    sessions: async_sessionmaker[AsyncSession], webhooks: WebhookActivities, endpoints: Endpoints
) -> None:
    secret = new_secret()
    tenant = await new_tenant(sessions)
    async with running(Receiver([secret])) as receiver:
        endpoint = await endpoints.add(tenant, receiver.url, secret)
        await write_events(sessions, tenant, [(CHANGED, "SO-R")])
        await publish_all(sessions)
        receiver.answer(Reply(status=429, headers={"retry-after": "7200"}))
        now = datetime.now(UTC)
        result = await _deliver(webhooks, tenant, endpoint, now)
    (row,) = await deliveries(sessions, endpoint)
    # the schedule's first wait is 5 s; the receiver asked for two hours
    assert row["status"] == "pending" and row["codes"] == [429]
    assert now + timedelta(hours=2) <= row["next_attempt_at"] < now + timedelta(hours=2, minutes=1)
    assert result.next_due == row["next_attempt_at"]


async def test_a_410_disables_the_endpoint_and_nothing_more_is_sent(
    sessions: async_sessionmaker[AsyncSession], webhooks: WebhookActivities, endpoints: Endpoints
) -> None:
    secret = new_secret()
    tenant = await new_tenant(sessions)
    async with running(Receiver([secret])) as receiver:
        endpoint = await endpoints.add(tenant, receiver.url, secret)
        await write_events(sessions, tenant, [(CHANGED, "SO-G")])
        await publish_all(sessions)
        receiver.answer(Reply(status=410))
        await _deliver(webhooks, tenant, endpoint, datetime.now(UTC))
        await write_events(sessions, tenant, [(CHANGED, "SO-H")])
        await publish_all(sessions)
        after = await _deliver(webhooks, tenant, endpoint, datetime.now(UTC) + timedelta(days=1))
        assert len(receiver.received) == 1
    assert after.stopped == "disabled" and after.next_due is None
    row = await endpoint_row(sessions, endpoint)
    assert row["enabled"] is False and "410" in row["disabled_reason"]
    (delivery,) = await deliveries(sessions, endpoint)  # SO-H came after: not queued
    assert delivery["status"] == "pending" and delivery["codes"] == [410]


async def test_during_a_secret_rotation_both_secrets_sign_and_then_only_the_new_one(
    sessions: async_sessionmaker[AsyncSession], webhooks: WebhookActivities, endpoints: Endpoints
) -> None:
    old, new = new_secret(), new_secret()
    tenant = await new_tenant(sessions)
    # the receiver checks each request with each secret: holders of either verify
    async with running(Receiver([new, old])) as receiver:
        endpoint = await endpoints.add(
            tenant,
            receiver.url,
            new,
            previous_secret=old,
            previous_expires_at=datetime.now(UTC) + timedelta(hours=24),
        )
        await write_events(sessions, tenant, [(CHANGED, "SO-K")])
        await publish_all(sessions)
        await _deliver(webhooks, tenant, endpoint, datetime.now(UTC))
        assert receiver.forged == []
        (during,) = receiver.received
        assert during.verified_by == [new, old]
        assert len(during.headers["webhook-signature"].split(" ")) == 2

        async with sessions() as session, session.begin():
            await session.execute(
                text(
                    "UPDATE webhook_endpoints SET previous_secret_expires_at = now()"
                    " - interval '1 second' WHERE id = :e"
                ),
                {"e": endpoint},
            )
        receiver.secrets = [new]
        await write_events(sessions, tenant, [(CHANGED, "SO-K")])
        await publish_all(sessions)
        await _deliver(webhooks, tenant, endpoint, datetime.now(UTC))
        after = receiver.received[1]
    assert receiver.forged == [] and after.verified_by == [new]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(after.body, after.headers)


async def test_an_event_that_cannot_be_rendered_retries_on_its_lane_and_others_go_on(
    sessions: async_sessionmaker[AsyncSession], database_url: str, endpoints: Endpoints
) -> None:
    async def render(events: Sequence[StoredEvent]) -> list[bytes]:
        if any(e.subject_id == "SO-BAD" for e in events):
            raise ValueError("this subject's data no longer fits its contract")
        return await render_stored(events)

    secret = new_secret()
    tenant = await new_tenant(sessions)
    settings = Settings(database_url=database_url, webhooks_allow_private_urls=True)
    async with httpx.AsyncClient() as http, running(Receiver([secret])) as receiver:
        webhooks = WebhookActivities(sessions, settings, render, http)
        endpoint = await endpoints.add(tenant, receiver.url, secret)
        _, good = await write_events(sessions, tenant, [(CHANGED, "SO-BAD"), (CHANGED, "SO-OK")])
        await publish_all(sessions)
        result = await _deliver(webhooks, tenant, endpoint, datetime.now(UTC))
    assert (result.delivered, result.retrying) == (1, 1)
    assert receiver.ids() == [good]
    bad, ok = await deliveries(sessions, endpoint)
    assert (bad["status"], bad["attempts"], ok["status"]) == ("pending", 1, "delivered")
    assert "could not render" in bad["last_error"]
