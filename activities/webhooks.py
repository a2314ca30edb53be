"""The delivery activity: sends an endpoint's due lane heads, signed, and records
every attempt. It never sleeps or retries inside itself: a failed attempt is
recorded with its next attempt time, and the endpoint's workflow waits for it on a
durable timer. The activity's own retry policy covers database errors only."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import httpx
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from contracts.events import DeliverDueInput, DeliverDueResult, RenderEvents, StoredEvent
from db import webhook_sending as store
from db.alerts import NewAlert, raise_alert_in
from db.events import load_events
from domain.deliveries import AfterAttempt, Answer, DeliveryStatus, after_attempt
from observability.metrics import WebhookMetrics
from settings import Settings
from webhooks.guard import UnsafeUrl, check_host
from webhooks.signing import signed_headers

log = logging.getLogger(__name__)

BATCH = 64  # lane heads sent at once (one round; one transaction records it)
CONCURRENCY = 32  # HTTP requests in flight per activity
CALL_BUDGET_SECONDS = 20.0  # no new round starts after this; the workflow calls again
ALERT_KIND = "webhook_failing"


class WebhookActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        render: RenderEvents,
        http: httpx.AsyncClient,
        *,
        metrics: WebhookMetrics | None = None,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._render = render
        self._http = http
        self._metrics = metrics
        self._in_flight = asyncio.Semaphore(CONCURRENCY)

    @activity.defn
    async def deliver_due(self, data: DeliverDueInput) -> DeliverDueResult:
        """Rounds of due lane heads until none is due (a success lets the lane's next
        event go in the next round) or the call's budget is spent; then when the next
        one falls due. Heartbeats throughout: a call on a worker that died is retried
        after the heartbeat timeout, not the whole call's."""
        async with _heartbeating():
            return await self._deliver_due(data)

    async def _deliver_due(self, data: DeliverDueInput) -> DeliverDueResult:
        started = time.monotonic()
        delivered = retrying = failed = 0
        while True:
            async with self._sessions() as session:
                target = await store.load_target(session, data.endpoint_id, _wall_clock())
                due = (
                    []
                    if target is None
                    else await store.due_heads(session, data.endpoint_id, data.now, BATCH)
                )
            if target is None:
                return DeliverDueResult(
                    delivered=delivered, retrying=retrying, failed=failed, stopped="disabled"
                )
            if not due:
                break
            outcomes = await self._send_round(data, target, due)
            delivered += sum(a.after.status is DeliveryStatus.DELIVERED for a in outcomes)
            failed += sum(a.after.status is DeliveryStatus.FAILED for a in outcomes)
            retrying += sum(a.after.status is DeliveryStatus.PENDING for a in outcomes)
            if time.monotonic() - started > CALL_BUDGET_SECONDS:
                break
        async with self._sessions() as session:
            upcoming = await store.next_due(session, data.endpoint_id)
        return DeliverDueResult(
            delivered=delivered, retrying=retrying, failed=failed, next_due=upcoming
        )

    async def _send_round(
        self, data: DeliverDueInput, target: store.Target, due: Sequence[store.Due]
    ) -> list[store.Attempt]:
        async with self._sessions() as session:
            events = await load_events(session, [d.event_row for d in due])
        bodies = await self._bodies([events[d.event_row] for d in due])
        try:
            await check_host(target.url, allow_private=self._settings.webhooks_allow_private_urls)
            refused = None
        except UnsafeUrl as error:
            refused = Answer(status_code=None, error=f"refused by the SSRF guard: {error}")
        attempts = await asyncio.gather(
            *(
                self._attempt(data, target, d, events[d.event_row], body, refused)
                for d, body in zip(due, bodies, strict=True)
            )
        )
        await self._record(data, attempts)
        return attempts

    async def _bodies(self, events: Sequence[StoredEvent]) -> list[bytes | Answer]:
        """Each event's body, or the failed answer of one that cannot be rendered
        (its lane retries on the schedule; other lanes go on). A database error
        fails the call: the activity is retried."""
        try:
            return list(await self._render(events))
        except (SQLAlchemyError, OSError):
            raise
        except Exception:
            log.exception("webhooks: rendering %d events failed; rendering each", len(events))
        bodies: list[bytes | Answer] = []
        for event in events:
            try:
                bodies += await self._render([event])
            except (SQLAlchemyError, OSError):
                raise
            except Exception as error:
                bodies.append(Answer(status_code=None, error=f"could not render: {error!r}"))
        return bodies

    async def _attempt(
        self,
        data: DeliverDueInput,
        target: store.Target,
        due: store.Due,
        event: StoredEvent,
        body: bytes | Answer,
        refused: Answer | None,
    ) -> store.Attempt:
        at = _wall_clock()
        began = time.perf_counter()
        if isinstance(body, Answer):
            answer = body
        else:
            answer = refused or await self._post(target, event.event_id, body)
        seconds = time.perf_counter() - began
        # retries are scheduled on the workflow's clock (time-skipping tests move it)
        after = after_attempt(answer, attempts_before=due.attempts, now=max(data.now, at))
        if self._metrics is not None:
            self._metrics.attempt_latency.observe(seconds)
            if answer.ok:
                self._metrics.delivery_latency.observe(
                    max((_wall_clock() - event.occurred_at).total_seconds(), 0.0)
                )
        return store.Attempt(
            delivery_id=due.delivery_id,
            due=due,
            at=at,
            answer=answer,
            latency_ms=round(seconds * 1000),
            after=after,
        )

    async def _post(self, target: store.Target, event_id: str, body: bytes) -> Answer:
        limit = self._settings.webhook_timeout_seconds
        async with self._in_flight:
            # signed once a slot is free: the timestamp is the real time of sending,
            # which receivers check against their clock
            headers = signed_headers(event_id, body, target.secrets, _wall_clock())
            try:
                # the whole attempt, not each read: a receiver trickling bytes is cut off
                async with (
                    asyncio.timeout(limit),
                    self._http.stream(
                        "POST", target.url, content=body, headers=headers, timeout=limit
                    ) as response,
                ):
                    code = response.status_code
                    excerpt = "" if 200 <= code < 300 else await _excerpt(response)
            except (httpx.HTTPError, TimeoutError) as error:
                return Answer(status_code=None, error=f"{type(error).__name__}: {error}")
        return Answer(
            status_code=code,
            error=None if 200 <= code < 300 else f"HTTP {code}: {excerpt}",
            retry_after=response.headers.get("retry-after"),
        )

    async def _record(self, data: DeliverDueInput, attempts: Sequence[store.Attempt]) -> None:
        """One transaction: every attempt; for each delivery still as it was taken,
        its new state, the endpoint disabled when its answer says so, and the
        endpoint's alert when its schedule ran out (raised once per endpoint)."""
        async with self._sessions() as session, session.begin():
            changed = await store.record_attempts(session, attempts)
            applied = [a for a in attempts if a.delivery_id in changed]
            disable = next((a.after for a in applied if a.after.disable_endpoint), None)
            if disable is not None and disable.disable_endpoint:
                await store.disable_endpoint(session, data.endpoint_id, disable.disable_endpoint)
            if any(a.after.status is DeliveryStatus.FAILED for a in applied):
                await self._alert(session, data)
        self._count(applied)

    async def _alert(self, session: AsyncSession, data: DeliverDueInput) -> None:
        await raise_alert_in(
            session,
            NewAlert(
                tenant_id=data.tenant_id,
                key=f"webhook-endpoint-{data.endpoint_id}",
                kind=ALERT_KIND,
                reference_type="webhook_endpoint",
                reference_id=str(data.endpoint_id),
                message=(
                    f"Webhook endpoint {data.endpoint_id} failed every attempt of a delivery "
                    "for days and is disabled. Fix the receiver, then enable it again "
                    f"(PATCH /v1/webhook-endpoints/{data.endpoint_id} with enabled=true: its "
                    "pending deliveries resume) and replay what failed "
                    f'(POST /v1/webhook-endpoints/{data.endpoint_id}/replay {{"since": …}}).'
                ),
            ),
            reopen=True,
        )

    def _count(self, attempts: Sequence[store.Attempt]) -> None:
        if self._metrics is None:
            return
        for a in attempts:
            self._metrics.deliveries.labels(_outcome(a.after)).inc()


def _outcome(after: AfterAttempt) -> str:
    if after.status is DeliveryStatus.PENDING:
        return "gone" if after.disable_endpoint else "retrying"
    return after.status.value


HEARTBEAT_EVERY_SECONDS = 2.0


@contextlib.asynccontextmanager
async def _heartbeating() -> AsyncIterator[None]:
    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(HEARTBEAT_EVERY_SECONDS)

    beating = asyncio.create_task(beat())
    try:
        yield
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating


EXCERPT_BYTES = 200  # of a failed answer's body, kept with the attempt


async def _excerpt(response: httpx.Response) -> str:
    """The start of a response's body, read no further than needed."""
    read = b""
    async for chunk in response.aiter_bytes():
        read += chunk
        if len(read) >= EXCERPT_BYTES:
            break
    return read[:EXCERPT_BYTES].decode(errors="replace")


def _wall_clock() -> datetime:
    return datetime.now(UTC)
