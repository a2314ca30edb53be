"""Events out under crashes: the worker process (which runs the relay, the order
workflows and the webhook deliveries) SIGKILLed again and again while 200 orders run,
a real receiver verifying every signature. Every event the database committed reaches
it, always under its own id, and nothing else does."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import text
from temporalio.testing import WorkflowEnvironment

from tests.conftest import unique
from tests.e2e.test_processes import Output, _clean_env, _start
from tests.integration.order_helpers import order_input, start
from tests.integration.stock_world import World
from tests.integration.webhook_helpers import Endpoints
from tests.integration.webhook_receiver import Received, Receiver, running
from webhooks.signing import new_secret

ORDERS = 200
KILLS = 4
STARTING_AT_ONCE = 20
# a kill lands once this many more events committed (the orders run meanwhile): the
# kills come close together, so the steps they leave in flight wait out one timeout
KILL_EVERY_EVENTS = 25
# A step in flight on a killed worker is retried when its start-to-close timeout
# expires (60 s for an order step, 2 min for a delivery call): a wait fails when
# what it waits for made no progress for longer than that, or after the cap.
STALLED_AFTER = 150.0
WAIT_AT_MOST = 420.0


class Workers:
    """`python -m worker` on its own task queue, one process at a time."""

    def __init__(self, env: dict[str, str]) -> None:
        self._env = env
        self.process: subprocess.Popen[str] | None = None
        self.output: Output | None = None

    def start(self) -> None:
        self.process, self.output = _start([sys.executable, "-m", "worker"], self._env)
        self.output.wait_for("worker polling task queue")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


async def _scalar(world: World, sql: str, **params: Any) -> int:
    async with world.sessions() as session:
        return int(await session.scalar(text(sql), {"t": world.tenant_id, **params}) or 0)


async def _committed(world: World) -> int:
    return await _scalar(world, "SELECT count(*) FROM events WHERE tenant_id = :t")


async def _until(check: Callable[[], Awaitable[str | None]], workers: Workers) -> None:
    """Poll `check` (None when done, else what is missing) while it progresses."""
    began = changed = time.monotonic()
    missing = last = await check()
    while missing is not None:
        now = time.monotonic()
        if now - changed > STALLED_AFTER or now - began > WAIT_AT_MOST:
            log = workers.output.drain()[-3000:] if workers.output else ""
            raise AssertionError(
                f"no progress for {now - changed:.0f} s ({now - began:.0f} s in all):"
                f" {missing}; the worker's log ends:\n{log}"
            )
        await asyncio.sleep(0.5)
        missing = await check()
        if missing != last:
            last, changed = missing, time.monotonic()


async def _start_orders(dev_env: WorkflowEnvironment, task_queue: str, world: World) -> None:
    bound = asyncio.Semaphore(STARTING_AT_ONCE)

    async def one() -> None:
        async with bound:
            await start(dev_env.client, task_queue, order_input(world, [("WIDGET", 1)]))

    await asyncio.gather(*(one() for _ in range(ORDERS)))


def _settled(world: World, endpoint_id: int) -> Callable[[], Awaitable[str | None]]:
    async def check() -> str | None:
        async with world.sessions() as session:
            statuses: dict[str, int] = dict(
                (
                    await session.execute(
                        text("SELECT status, count(*) FROM orders WHERE tenant_id = :t GROUP BY 1"),
                        {"t": world.tenant_id},
                    )
                ).all()
            )
        if statuses.get("allocated", 0) < ORDERS:
            return f"orders by status {statuses}"
        unpublished = await _scalar(
            world, "SELECT count(*) FROM events WHERE tenant_id = :t AND position IS NULL"
        )
        pending = await _scalar(
            world,
            "SELECT count(*) FROM webhook_deliveries"
            " WHERE endpoint_id = :e AND status <> 'delivered'",
            e=endpoint_id,
        )
        if unpublished or pending:
            return f"{unpublished} events unpublished, {pending} deliveries not delivered"
        return None

    return check


async def _event_rows(world: World) -> dict[str, dict[str, Any]]:
    async with world.sessions() as session:
        rows = await session.execute(
            text(
                "SELECT event_id, type, subject_type, subject_id, sequence FROM events"
                " WHERE tenant_id = :t ORDER BY id"
            ),
            {"t": world.tenant_id},
        )
        return {r.event_id: dict(r._mapping) for r in rows}


def _as_told(received: Received) -> dict[str, Any]:
    body = received.event
    return {
        "event_id": body["id"],
        "type": body["type"],
        "subject_type": body["subject"]["type"],
        "subject_id": body["subject"]["id"],
        "sequence": body["sequence"],
    }


async def test_worker_kills_during_200_orders_lose_invent_and_rename_no_event(
    dev_env: WorkflowEnvironment, database_url: str, world: World
) -> None:
    secret = new_secret()
    receiver = Receiver([secret])
    endpoints = Endpoints(world.sessions, [])
    task_queue = unique("kill-events")
    workers = Workers(
        _clean_env(
            OMS_DATABASE_URL=database_url,
            OMS_TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
            OMS_TEMPORAL_TASK_QUEUE=task_queue,
            OMS_WEBHOOKS_ALLOW_PRIVATE_URLS="true",
            OMS_WORKER_METRICS_PORT="0",
            OMS_TEMPORAL_METRICS_PORT="0",
        )
    )
    async with running(receiver):
        endpoint_id = await endpoints.add(world.tenant_id, receiver.url, secret)
        try:
            await world.receive("WIDGET", ORDERS)  # exactly enough: the last one runs out
            await asyncio.to_thread(workers.start)
            starting = asyncio.create_task(_start_orders(dev_env, task_queue, world))
            for _ in range(KILLS):
                at = await _committed(world) + KILL_EVERY_EVENTS

                async def reached(at: int = at) -> str | None:
                    done = await _committed(world)
                    return None if done >= at else f"{done} of {at} events committed"

                await _until(reached, workers)
                workers.kill()
                await asyncio.to_thread(workers.start)
            await starting
            await _until(_settled(world, endpoint_id), workers)
        finally:
            workers.stop()
            await endpoints.disable_all()

    committed = await _event_rows(world)
    assert receiver.forged == []
    accepted = [r for r in receiver.received if 200 <= r.answered < 300]
    assert all(r.verified_by == [secret] for r in accepted)
    # (1) every committed event came; (3) nothing came that is not a committed row
    assert {r.webhook_id for r in accepted} == set(committed)
    # (2) an id always carries its own event (never one event under two ids)
    assert [r.webhook_id for r in accepted if _as_told(r) != committed[r.webhook_id]] == []
    # (4) per subject, first arrivals in sequence order, none missing
    first_seen: dict[str, list[int]] = {}
    seen: set[str] = set()
    for r in accepted:
        if r.webhook_id not in seen:
            seen.add(r.webhook_id)
            told = _as_told(r)
            subject = f"{told['subject_type']}:{told['subject_id']}"
            first_seen.setdefault(subject, []).append(told["sequence"])
    assert {s: q for s, q in first_seen.items() if q != list(range(1, len(q) + 1))} == {}
    # a step retried after a kill wrote no second event: each order told its story once
    stories: dict[str, list[str]] = {}
    for event in committed.values():
        if event["subject_type"] == "order":
            stories.setdefault(event["subject_id"], []).append(event["type"])
    assert Counter(tuple(s) for s in stories.values()) == {
        ("order.created", "order.status_changed"): ORDERS
    }
    duplicates = len(accepted) - len(committed)
    print(f"{len(committed)} events, {duplicates} delivered again under the same id")
