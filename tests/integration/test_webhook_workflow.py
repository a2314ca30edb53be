"""The endpoint's delivery workflow in time-skipping Temporal, against a real
receiver: retries on durable timers, the same webhook-id on every attempt, and the
schedule run to exhaustion (the endpoint disabled, one alert)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from contracts.events import EndpointDeliveryInput, EndpointDeliveryResult
from db.webhooks import endpoint_workflow_id
from domain.events import RETRY_WAITS, EventType
from tests.integration.webhook_helpers import (
    Endpoints,
    deliveries,
    delivering_worker,
    endpoint_row,
    new_tenant,
    publish_all,
    write_events,
)
from tests.integration.webhook_receiver import Receiver, Reply, running
from webhooks.relay import wake_endpoint
from webhooks.signing import new_secret
from workflows.search_attributes import WEBHOOK_ENDPOINT
from workflows.webhook_delivery import WebhookDeliveryWorkflow

CHANGED = EventType.ORDER_STATUS_CHANGED


@pytest.fixture
async def queue(
    time_skipping_env: WorkflowEnvironment,
    database_url: str,
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[str]:
    async with delivering_worker(time_skipping_env, database_url, sessions, "webhooks") as queue:
        yield queue


async def _run(
    env: WorkflowEnvironment, queue: str, tenant: int, endpoint: int
) -> WorkflowHandle[WebhookDeliveryWorkflow, EndpointDeliveryResult]:
    handle = await wake_endpoint(env.client, queue, tenant, endpoint)
    assert handle.id == endpoint_workflow_id(endpoint)
    return handle


async def test_a_receiver_failing_three_times_then_answering_gets_one_webhook_id_delivered(
    time_skipping_env: WorkflowEnvironment,
    queue: str,
    sessions: async_sessionmaker[AsyncSession],
    endpoints: Endpoints,
) -> None:
    secret = new_secret()
    tenant = await new_tenant(sessions)
    async with running(Receiver([secret])) as receiver:
        endpoint = await endpoints.add(tenant, receiver.url, secret)
        (event_id,) = await write_events(sessions, tenant, [(CHANGED, "SO-1")])
        await publish_all(sessions)
        receiver.answer(Reply(status=500), Reply(status=502), Reply(status=500))
        handle = await _run(time_skipping_env, queue, tenant, endpoint)
        result = await handle.result()
    assert result == EndpointDeliveryResult(delivered=1, failed=0)
    assert receiver.forged == []
    assert receiver.ids() == [event_id] * 4
    assert [r.answered for r in receiver.received] == [500, 502, 500, 200]
    (row,) = await deliveries(sessions, endpoint)
    assert (row["status"], row["attempts"], row["codes"]) == ("delivered", 4, [500, 502, 500, 200])
    described = await handle.describe()
    assert described.typed_search_attributes.get(WEBHOOK_ENDPOINT) == str(endpoint)


async def test_the_retry_schedule_runs_out_then_the_endpoint_is_disabled_with_one_alert(
    time_skipping_env: WorkflowEnvironment,
    queue: str,
    sessions: async_sessionmaker[AsyncSession],
    endpoints: Endpoints,
) -> None:
    secret = new_secret()
    tenant = await new_tenant(sessions)
    async with running(Receiver([secret])) as receiver:
        endpoint = await endpoints.add(tenant, receiver.url, secret)
        # two subjects fail side by side: the first lane to run out disables the
        # endpoint; the other waits, pending, for it to be enabled again
        await write_events(sessions, tenant, [(CHANGED, "SO-X"), (CHANGED, "SO-Y")])
        await publish_all(sessions)
        receiver.answer(*[Reply(status=503)] * 100)
        result = await (await _run(time_skipping_env, queue, tenant, endpoint)).result()
    assert result.failed == 1
    rows = await deliveries(sessions, endpoint)
    failed = [r for r in rows if r["status"] == "failed"]
    assert [r["attempts"] for r in failed] == [1 + len(RETRY_WAITS)]
    assert [r["status"] for r in rows if r not in failed] == ["pending"]
    assert len(receiver.received) == sum(r["attempts"] for r in rows)
    row = await endpoint_row(sessions, endpoint)
    assert row["enabled"] is False and "attempts" in row["disabled_reason"]
    async with sessions() as session:
        alerts = (
            await session.execute(
                text("SELECT kind, message FROM alerts WHERE tenant_id = :t AND reference_id = :e"),
                {"t": tenant, "e": str(endpoint)},
            )
        ).all()
    assert [a.kind for a in alerts] == ["webhook_failing"]
    assert "enabled=true" in alerts[0].message


async def test_a_long_retrying_run_continues_as_new_and_still_delivers_once(
    time_skipping_env: WorkflowEnvironment,
    queue: str,
    sessions: async_sessionmaker[AsyncSession],
    endpoints: Endpoints,
) -> None:
    secret = new_secret()
    tenant = await new_tenant(sessions)
    async with running(Receiver([secret])) as receiver:
        endpoint = await endpoints.add(tenant, receiver.url, secret)
        (event_id,) = await write_events(sessions, tenant, [(CHANGED, "SO-L")])
        await publish_all(sessions)
        receiver.answer(*[Reply(status=500)] * 4)
        handle = await time_skipping_env.client.start_workflow(
            WebhookDeliveryWorkflow.run,
            EndpointDeliveryInput(tenant_id=tenant, endpoint_id=endpoint, history_limit=12),
            id=endpoint_workflow_id(endpoint),
            task_queue=queue,
        )
        result = await handle.result()
        assert result.delivered == 1  # by the last run
    first = await time_skipping_env.client.get_workflow_handle(
        handle.id, run_id=handle.result_run_id
    ).describe()
    assert first.status == WorkflowExecutionStatus.CONTINUED_AS_NEW
    assert receiver.ids() == [event_id] * 5
    (row,) = await deliveries(sessions, endpoint)
    assert (row["status"], row["attempts"]) == ("delivered", 5)
