"""The relay: carries committed events from the outbox to the endpoints' delivery
workflows. It LISTENs for the NOTIFY sent at each commit (and polls, in case a
notice is missed or the connection is down), at most one pass every 50 ms (under
load a pass takes the events of many commits), then:

1. publishes a batch of pending events (feed positions, one delivery per subscribed
   endpoint) in a transaction;
2. in one transaction, takes the undispatched deliveries (locked, SKIP LOCKED), wakes
   each endpoint's workflow (signal-with-start) and marks them dispatched;
3. again while the batch was full. What commits after the last read notifies the
   next pass, so a steady stream of commits, or a backlog, never holds step 2 back.

A relay that dies anywhere leaves the same rows for the next one (a wake twice is
harmless: the workflow sends what is due, by the event's id); several relays (one
per worker process) share the work: one publishes at a time (an advisory lock),
each wakes the endpoints of the deliveries it locked."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client, WorkflowHandle
from temporalio.common import TypedSearchAttributes

from contracts.events import EndpointDeliveryInput, EndpointDeliveryResult
from db.events import (
    NOTIFY_CHANNEL,
    PUBLISH_BATCH,
    deliveries_to_wake,
    mark_woken,
    publish_pending,
    requeue_overdue,
)
from db.listener import Listener
from db.webhook_sending import retry_backlog
from db.webhooks import endpoint_workflow_id
from observability.metrics import WebhookMetrics
from workflows import search_attributes
from workflows.webhook_delivery import WebhookDeliveryWorkflow

log = logging.getLogger(__name__)

POLL_SECONDS = 5.0  # a pass without a notice: what a lost notice or a down link missed
GATHER_SECONDS = 0.05  # a pass starts at least this long after the one before
BACKLOG_SECONDS = 5.0  # the retry backlog gauge is counted at most this often
RETRY_SECONDS = 1.0  # after the connection or a pass failed
BUSY_RETRIES = 20  # another relay is publishing: look again this often, 50 ms apart
WAKE_BATCH = 1000
# a delivery due this long and still pending, its endpoint's run woken, is woken again
# (the run was terminated, reset or lost); looked for at most once per OVERDUE_CHECK
OVERDUE_GRACE = timedelta(minutes=5)
OVERDUE_CHECK_SECONDS = 60.0


class Relay(Listener):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: Client,
        *,
        database_url: str,
        task_queue: str,
        metrics: WebhookMetrics | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        super().__init__(make_url(database_url), name="events relay", retry_seconds=RETRY_SECONDS)
        self._sessions = sessions
        self._client = client
        self._task_queue = task_queue
        self._metrics = metrics
        self._poll = poll_seconds
        self._overdue_checked = -OVERDUE_CHECK_SECONDS
        self._backlog_counted = -BACKLOG_SECONDS

    async def _listen(self) -> None:
        async with await self._connect() as conn:
            await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            self.listening.set()
            while True:
                # first what committed while nobody listened, then at each notice
                started = time.monotonic()
                await self.relay_pending()
                await self._refresh_backlog()
                async for _ in conn.notifies(timeout=self._poll, stop_after=1):
                    pass
                # a pass at most every GATHER_SECONDS: under load one pass takes the
                # events of many commits and wakes each endpoint once for them
                await asyncio.sleep(GATHER_SECONDS - (time.monotonic() - started))
                # notices that came meanwhile are covered by the pass that follows
                async for _ in conn.notifies(timeout=0):
                    pass

    async def relay_pending(self) -> None:
        """One pass: publish what is pending when it reads, a batch at a time, and
        after each batch wake every endpoint with undispatched deliveries (a backlog
        of full batches never holds the wakes back)."""
        while True:
            full = await self._publish()
            await self._requeue_overdue()
            while await self._wake() >= WAKE_BATCH:
                pass
            if not full:
                return

    async def _requeue_overdue(self) -> None:
        if time.monotonic() - self._overdue_checked < OVERDUE_CHECK_SECONDS:
            return
        async with self._sessions() as session, session.begin():
            requeued = await requeue_overdue(session, OVERDUE_GRACE)
        self._overdue_checked = time.monotonic()
        if requeued:
            log.warning("events relay: %d overdue deliveries woken again", requeued)

    async def _publish(self) -> bool:
        """One batch of pending events; True when it was full (more may wait). An
        event committed after its read notified: the listener's next pass takes it."""
        for _ in range(BUSY_RETRIES + 1):
            async with self._sessions() as session, session.begin():
                # (the module's name, not the default: a test makes batches small)
                published = await publish_pending(session, limit=PUBLISH_BATCH)
            if published is not None:
                if self._metrics is not None:
                    self._metrics.events_published.inc(published.events)
                return published.events >= PUBLISH_BATCH
            await asyncio.sleep(0.05)  # another relay is publishing: it may miss the newest
        return False

    async def _wake(self) -> int:
        """Wake the endpoints of one batch of undispatched deliveries; how many."""
        async with self._sessions() as session, session.begin():
            by_endpoint = await deliveries_to_wake(session, limit=WAKE_BATCH)
            await asyncio.gather(
                *(self._wake_endpoint(tenant, endpoint) for tenant, endpoint in by_endpoint)
            )
            woken = [i for ids in by_endpoint.values() for i in ids]
            if woken:
                await mark_woken(session, woken)
        return len(woken)

    async def _wake_endpoint(self, tenant_id: int, endpoint_id: int) -> None:
        await wake_endpoint(self._client, self._task_queue, tenant_id, endpoint_id)

    async def _refresh_backlog(self) -> None:
        """The retry backlog gauge: a count of the deliveries table, so not at every
        pass."""
        if self._metrics is None or time.monotonic() - self._backlog_counted < BACKLOG_SECONDS:
            return
        async with self._sessions() as session:
            self._metrics.retry_backlog.set(await retry_backlog(session))
        self._backlog_counted = time.monotonic()


async def wake_endpoint(
    client: Client, task_queue: str, tenant_id: int, endpoint_id: int
) -> WorkflowHandle[WebhookDeliveryWorkflow, EndpointDeliveryResult]:
    """Signal the endpoint's delivery workflow to send what is due, starting it when
    no run is open; its handle."""
    return await client.start_workflow(
        WebhookDeliveryWorkflow.run,
        EndpointDeliveryInput(tenant_id=tenant_id, endpoint_id=endpoint_id),
        id=endpoint_workflow_id(endpoint_id),
        task_queue=task_queue,
        start_signal="wake",
        search_attributes=TypedSearchAttributes(
            search_attributes.pairs(search_attributes.for_webhook_endpoint(tenant_id, endpoint_id))
        ),
    )
