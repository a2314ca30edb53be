"""Benchmark: events from commit to a receiver's 2xx through the outbox, the relay and
the endpoint's delivery workflow, against a floor measured in the same run. Not a
test; prints figures and ratios.

    .venv/bin/python -m bench.events [--events 1000] [--subjects 100] [--writers 8]
        [--concurrency 32] [--paced-rate 20] [--paced-events 200] [--profile]

1. Floor: N plain POSTs of a signed body of the same size to the receiver from one
   process, one httpx client, `--concurrency` in flight (the delivery activity's
   own limit, activities.webhooks.CONCURRENCY); measured before and after the
   burst, the better one counts (the machine may be shared).
2. Burst: one tenant, one endpoint subscribed to `*`; `--writers` writers commit N
   events over S subjects, one event per transaction (as the business does), as
   fast as they can. Events/s = N / (first write .. last first arrival); ratio vs
   the floor (target >= 0.5); commit -> first attempt p50/p99 (mostly queueing).
3. Paced: events committed at `--paced-rate` per second: commit -> first attempt
   p50/p99 in steady state (target p50 < 1 s).

The receiver is its own process (bench.webhook_receiver): it answers 200 at once,
records each webhook-id's first arrival (wall clock) and checks one signature in
50. It starts its own embedded PostgreSQL and Temporal dev server (in memory); the
worker (delivery activity) and the relay run in this process, beside the writers.
`--profile` runs the burst under cProfile and prints where this process's time went.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.webhooks import CONCURRENCY
from api.event_render import EventRenderer
from bench.saga_stack import CpuMeter, servers
from cli.embedded import free_port
from contracts.events import StoredEvent
from db.engine import create_engine, create_session_factory
from db.events import record_events
from db.tenants import ensure_tenant
from db.webhooks import NewEndpoint, add_endpoint
from domain.events import EventType, NewEvent, Subject
from settings import Settings
from webhooks.relay import Relay
from webhooks.signing import new_secret, signed_headers
from worker import build_worker, webhook_activities


def alert_data(n: int) -> dict[str, Any]:
    """An alert as the service stores it (its renderer reads no table): event `n`."""
    return {
        "id": n,
        "kind": "bench",
        "reference_type": "bench",
        "reference_id": str(n),
        "message": "A benchmark event, about as long as a real alert's message. " * 3,
        "created_at": datetime.now(UTC).isoformat(),
        "resolved_at": None,
        "resolution": None,
    }


class ReceiverProcess:
    """The receiver (bench.webhook_receiver) in its own process, and a client of it."""

    def __init__(self, secret: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        module = "bench.webhook_receiver"
        self.process = subprocess.Popen([sys.executable, "-m", module, str(self.port), secret])
        self.client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    async def ready(self) -> None:
        for _ in range(100):
            try:
                await self.client.get("/count")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
        raise RuntimeError("the receiver did not start")

    async def reset(self) -> None:
        await self.client.post("/reset")

    async def wait_for(self, count: int, seconds: float) -> None:
        """Until `count` distinct events arrived; an error after `seconds`."""
        async with asyncio.timeout(seconds):
            while int((await self.client.get("/count")).text) < count:
                await asyncio.sleep(0.05)

    async def arrivals(self) -> dict[str, Any]:
        result: dict[str, Any] = (await self.client.get("/arrivals")).json()
        return result

    async def close(self) -> None:
        await self.client.aclose()
        self.process.terminate()
        self.process.wait(timeout=10)


async def floor(
    receiver: ReceiverProcess, body: bytes, secret: str, count: int, concurrency: int
) -> float:
    """Plain signed POSTs to the receiver, `concurrency` in flight; posts per second."""
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient() as http:

        async def post(i: int) -> None:
            headers = signed_headers(f"floor_{i}", body, [secret], datetime.now(UTC))
            async with gate:
                response = await http.post(receiver.url, content=body, headers=headers)
            assert response.is_success, response.status_code

        started = time.perf_counter()
        await asyncio.gather(*(post(i) for i in range(count)))
        return count / (time.perf_counter() - started)


@dataclass(frozen=True, kw_only=True)
class Written:
    committed: dict[int, float]  # event number -> wall clock right after its commit
    began: float  # wall clock when the first write began
    seconds: float  # from the first write to the last commit


async def write(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: int,
    numbers: range,
    *,
    subjects: int,
    writers: int,
    rate: float | None,
) -> Written:
    """One event per transaction, `writers` at once; at `rate` per second when given."""
    committed: dict[int, float] = {}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in numbers:
        queue.put_nowait(n)
    began, started = time.time(), time.perf_counter()

    async def writer() -> None:
        while not queue.empty():
            n = queue.get_nowait()
            if rate is not None:
                await asyncio.sleep(started + (n - numbers.start) / rate - time.perf_counter())
            event = NewEvent(
                tenant_id=tenant_id,
                type=EventType.ALERT_RAISED,
                subject_id=f"bench-{n % subjects}",
                data=alert_data(n),
            )
            async with sessions() as session, session.begin():
                await record_events(session, [event])
            committed[n] = time.time()

    await asyncio.gather(*(writer() for _ in range(writers)))
    return Written(committed=committed, began=began, seconds=time.perf_counter() - started)


@dataclass(frozen=True, kw_only=True)
class Delivered:
    rate: float  # events per second, first write to last first arrival
    p50: float
    p99: float
    checked: str


async def delivered(
    sessions: async_sessionmaker[AsyncSession], receiver: ReceiverProcess, written: Written
) -> Delivered:
    """Each event's commit -> first arrival at the receiver, by its webhook-id."""
    got = await receiver.arrivals()
    async with sessions() as session:
        rows = await session.execute(
            text(
                "SELECT event_id, CAST(data->>'id' AS int) AS n FROM events"
                " WHERE CAST(data->>'id' AS int) = ANY(:ns)"
            ),
            {"ns": list(written.committed)},
        )
        numbers = {r.event_id: r.n for r in rows}
    latencies = sorted(
        at - written.committed[numbers[event_id]]
        for event_id, at in got["arrivals"].items()
        if event_id in numbers
    )
    assert len(latencies) == len(written.committed), (len(latencies), len(written.committed))
    last_arrival = max(got["arrivals"][e] for e in numbers)
    return Delivered(
        rate=len(latencies) / (last_arrival - written.began),
        p50=statistics.median(latencies),
        p99=latencies[min(len(latencies) - 1, round(len(latencies) * 0.99))],
        checked=f"{got['verified']} signatures checked, {got['bad_signatures']} bad",
    )


async def main(args: argparse.Namespace) -> None:
    async with servers("oms-events-") as started:
        root, postgres, env = started.root, started.postgres, started.env
        url, queue = started.url, started.queue
        secret = new_secret()
        receiver = ReceiverProcess(secret)
        try:
            settings = Settings(
                database_url=url,
                database_pool_size=args.writers + 12,
                temporal_task_queue=queue,
                temporal_address=started.temporal_address,
                webhooks_allow_private_urls=True,
            )
            engine = create_engine(settings)
            sessions = create_session_factory(engine)
            async with sessions() as session, session.begin():
                tenant = await ensure_tenant(session, f"bench-{uuid.uuid4().hex[:8]}")
                tenant_id, slug = tenant.id, tenant.slug
            await receiver.ready()
            sample = StoredEvent(
                event_id="evt_" + uuid.uuid4().hex,
                tenant_id=tenant_id,
                tenant=slug,
                type=EventType.ALERT_RAISED.value,
                version=1,
                subject_type=Subject.ALERT.value,
                subject_id="bench-0",
                sequence=1,
                occurred_at=datetime.now(UTC),
                data=alert_data(10**6),
                position=1,
            )
            body = (await EventRenderer(sessions)([sample]))[0]
            print(
                f"{args.events} events over {args.subjects} subjects, {args.writers} writers, "
                f"one event per transaction; {args.concurrency} POSTs in flight; body {len(body)} bytes; "
                "receiver in its own process; worker and relay in this one\n"
            )
            meter = CpuMeter(postgres, {"receiver": receiver.process})
            await floor(receiver, body, secret, 200, args.concurrency)  # warm up
            meter.start()
            floor_rate = await floor(receiver, body, secret, args.events, args.concurrency)
            floor_cpu = meter.report("floor", args.events, "event", 2)
            await receiver.reset()

            async with sessions() as session, session.begin():
                await add_endpoint(
                    session,
                    NewEndpoint(
                        tenant_id=tenant_id,
                        url=receiver.url,
                        event_types=["*"],
                        description="bench",
                        enabled=True,
                        secret=secret,
                    ),
                )
            async with httpx.AsyncClient(follow_redirects=False) as http:
                worker = build_worker(
                    env.client,
                    sessions,
                    queue,
                    webhooks=webhook_activities(sessions, settings, http),
                )
                relay = Relay(sessions, env.client, database_url=url, task_queue=queue)
                async with worker:
                    relay.start()
                    await relay.listening.wait()
                    warm = await write(
                        sessions, tenant_id, range(-50, 0), subjects=10, writers=4, rate=None
                    )
                    await receiver.wait_for(len(warm.committed), 120)
                    await receiver.reset()

                    profile = cProfile.Profile() if args.profile else None
                    meter.start()
                    if profile is not None:
                        profile.enable()
                    burst = await write(
                        sessions,
                        tenant_id,
                        range(args.events),
                        subjects=args.subjects,
                        writers=args.writers,
                        rate=None,
                    )
                    await receiver.wait_for(args.events, 600)
                    if profile is not None:
                        profile.disable()
                    burst_cpu = meter.report("outbox", args.events, "event", 2)
                    ours = await delivered(sessions, receiver, burst)
                    # the floor again, the worker idle: a shared machine's noise shows
                    floor_again = await floor(receiver, body, secret, args.events, args.concurrency)
                    await receiver.reset()

                    paced = range(args.events, args.events + args.paced_events)
                    steady = await write(
                        sessions,
                        tenant_id,
                        paced,
                        subjects=args.subjects,
                        writers=args.writers,
                        rate=args.paced_rate,
                    )
                    await receiver.wait_for(args.paced_events, 120)
                    calm = await delivered(sessions, receiver, steady)
                    await relay.stop()

            write_rate = args.events / burst.seconds
            best = max(floor_rate, floor_again)
            print(
                f"burst: floor (plain POSTs, best of {floor_rate:.1f} and {floor_again:.1f}) "
                f"{best:7.1f} events/s | through the outbox {ours.rate:7.1f} events/s | "
                f"ratio {ours.rate / best:.2f} (target >= 0.5)"
            )
            print(f"  writers alone committed {write_rate:.1f} events/s")
            print(
                f"  commit -> first attempt p50 {ours.p50:.3f} s, p99 {ours.p99:.3f} s (queueing)"
            )
            print(
                f"paced: {args.paced_events} events at {args.paced_rate:g}/s: commit -> first attempt "
                f"p50 {calm.p50:.3f} s, p99 {calm.p99:.3f} s (target p50 < 1 s)"
            )
            print(f"receiver: {ours.checked} (burst), {calm.checked} (paced)")
            print(floor_cpu)
            print(burst_cpu)
            if profile is not None:
                profile.dump_stats(root / "burst.prof")
                print(f"\nthis process during the burst (cProfile, all in {root / 'burst.prof'}):")
                pstats.Stats(profile).sort_stats("tottime").print_stats(25)
            await engine.dispose()
        finally:
            await receiver.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--subjects", type=int, default=100)
    parser.add_argument("--writers", type=int, default=8, help="transactions at once")
    parser.add_argument(
        "--concurrency", type=int, default=CONCURRENCY, help="the floor's POSTs in flight"
    )
    parser.add_argument("--paced-rate", type=float, default=20.0, help="events/s")
    parser.add_argument("--paced-events", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="cProfile the burst")
    asyncio.run(main(parser.parse_args()))
    os._exit(0)  # skip teardown of Temporal's core threads (sdk-python#300)
