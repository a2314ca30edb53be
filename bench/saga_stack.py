"""What the saga benches stand on: their own PostgreSQL and Temporal dev server, the
API and the worker (in this process, or as their own processes with `deployed`),
and the instruments: CPU per process, a pool of concurrent callers, a profiler."""

from __future__ import annotations

import asyncio
import compileall
import contextlib
import cProfile
import os
import pstats
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from api.resources import Resources, TemporalConnection
from bench import start_floor_api
from cli.embedded import EmbeddedPostgres, bin_path, free_port
from cli.seed import seed_demo
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from domain.roles import Role
from settings import Settings
from worker import build_worker
from workflows.client import DATA_CONVERTER
from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES

T = TypeVar("T")
LINE_NUMBER = re.compile(r":\d+\)$")  # py-spy's "function (file:line)"


class CpuMeter:
    """CPU seconds spent by this process (client, and API and worker when in-process),
    the Temporal server, PostgreSQL and any other processes named, between `start`
    and `spent`: where a run's work went."""

    def __init__(
        self, postgres: EmbeddedPostgres, others: dict[str, subprocess.Popen[bytes]]
    ) -> None:
        me = psutil.Process()
        servers = [p for p in me.children(recursive=True) if "temporal" in p.name()]
        pid = postgres.running_pid()
        assert pid is not None, "PostgreSQL is not running"
        postmaster = psutil.Process(pid)
        self.parts = {"this process": [me], "temporal": servers, "postgres": [postmaster]}
        self.parts |= {name: [psutil.Process(p.pid)] for name, p in others.items()}

    def _now(self) -> dict[str, float]:
        spent = {}
        for name, processes in self.parts.items():
            tree = list(processes)
            if name == "postgres":  # the pool's backends live through a run; count them
                tree += processes[0].children()
            total = 0.0
            for process in tree:
                with contextlib.suppress(psutil.NoSuchProcess):
                    times = process.cpu_times()
                    total += times.user + times.system
            spent[name] = total
        return spent

    def start(self) -> None:
        self.started = self._now()

    def spent(self, items: int) -> dict[str, float]:
        """Milliseconds of CPU per item since `start`, by process."""
        now = self._now()
        return {name: (now[name] - self.started[name]) * 1000 / items for name in now}

    def report(self, label: str, items: int, unit: str = "order", digits: int = 0) -> str:
        return cpu_line(label, self.spent(items), unit, digits)


def cpu_line(label: str, parts: dict[str, float], unit: str = "order", digits: int = 0) -> str:
    detail = ", ".join(f"{name} {ms:.{digits}f}" for name, ms in parts.items())
    return f"  {label}: {sum(parts.values()):.{digits}f} ms CPU per {unit} ({detail})"


async def pool(
    count: int, concurrency: int, one: Callable[[int], Awaitable[T]]
) -> tuple[float, list[T]]:
    """Run `one(i)` for i < count, `concurrency` at a time: items per second, and
    what each returned (in the order of i)."""
    gate = asyncio.Semaphore(concurrency)

    async def run(i: int) -> T:
        async with gate:
            return await one(i)

    started = time.perf_counter()
    results = await asyncio.gather(*(run(i) for i in range(count)))
    return count / (time.perf_counter() - started), list(results)


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (`fraction` 0.5 is the median)."""
    ranked = sorted(values)
    return ranked[min(len(ranked) - 1, max(0, round(fraction * len(ranked)) - 1))]


def oms(command: str) -> list[str]:
    """`oms COMMAND` of this venv."""
    return [str(Path(sys.executable).parent / "oms"), command]


def spawn(argv: list[str], settings: Settings, queue: str, port: int) -> subprocess.Popen[bytes]:
    """`argv` (`oms api`, `oms worker`, a bench module) as its own process, on the
    bench's servers."""
    env = {
        **os.environ,
        "OMS_DATABASE_URL": settings.database_url,
        "OMS_TEMPORAL_ADDRESS": settings.temporal_address,
        "OMS_TEMPORAL_TASK_QUEUE": queue,
        "OMS_API_HOST": "127.0.0.1",
        "OMS_API_PORT": str(port),
        "OMS_WORKFLOW_SANDBOX": str(settings.workflow_sandbox).lower(),
    }
    return subprocess.Popen(
        argv,
        env=env,
        cwd=Path(__file__).parent.parent,  # `argv` may run a module of this tree
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def in_process(app: Any) -> httpx.AsyncClient:
    """A client of an ASGI app in this process (httpx's ASGI transport)."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=120
    )


async def served(port: int, *others: subprocess.Popen[bytes]) -> httpx.AsyncClient:
    """A client of an API process, once it answers (and the other processes live)."""
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=5) as probe:
        for _ in range(300):
            for process in others:
                if process.poll() is not None:
                    raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
            with contextlib.suppress(httpx.TransportError):
                if (await probe.get("/healthz")).is_success:
                    # a client not used yet: its caller opens it (`async with`)
                    return httpx.AsyncClient(base_url=base, timeout=120)
            await asyncio.sleep(0.1)
    raise RuntimeError(f"the API on port {port} did not start")


@dataclass(kw_only=True)
class Stack:
    """The running servers, the API (`api`: a client of it) and the demo tenant's keys."""

    root: Path
    postgres: EmbeddedPostgres
    env: WorkflowEnvironment
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    keys: dict[Role, str]
    api: httpx.AsyncClient
    deployed: bool
    processes: dict[str, subprocess.Popen[bytes]]  # by name: what the meter counts apart

    def headers(self, role: Role, key: str | None = None) -> dict[str, str]:
        given = {"Authorization": f"Bearer {self.keys[role]}"}
        return given | ({"Idempotency-Key": key} if key else {})

    def meter(self) -> CpuMeter:
        return CpuMeter(self.postgres, self.processes)

    async def api_on(self, queue: str) -> httpx.AsyncClient:
        """Another API (process, with `deployed`) whose orders start on `queue`."""
        if self.deployed:
            port = free_port()
            self.processes[f"api ({queue})"] = spawn(oms("api"), self.settings, queue, port)
            return await served(port)
        settings = self.settings.model_copy(update={"temporal_task_queue": queue})
        connection = TemporalConnection(settings, self.env.client)
        app = create_app(resources=Resources(settings, self.engine, self.sessions, connection))
        return in_process(app)

    async def start_floor_on(self, queue: str) -> httpx.AsyncClient:
        """The start rate's HTTP floor (bench/start_floor_api.py) starting on `queue`,
        served as `api_on` serves ours: its own uvicorn process with `deployed`."""
        if self.deployed:
            port = free_port()
            argv = [sys.executable, "-m", "bench.start_floor_api"]
            process = spawn(argv, self.settings, queue, port)
            self.processes[f"floor api ({queue})"] = process
            return await served(port, process)
        return in_process(start_floor_api.create_app(self.env.client, queue))


@dataclass(frozen=True, kw_only=True)
class Servers:
    """What every bench that runs workflows starts: PostgreSQL with the bench
    database migrated, a Temporal dev server, a fresh task queue."""

    root: Path  # a new temporary directory: the data directory, the bench's files
    postgres: EmbeddedPostgres
    env: WorkflowEnvironment
    url: str  # the bench database
    queue: str

    @property
    def temporal_address(self) -> str:
        return self.env.client.service_client.config.target_host


@contextlib.asynccontextmanager
async def servers(prefix: str) -> AsyncIterator[Servers]:
    """Embedded PostgreSQL (in memory) and a Temporal dev server (in memory), both
    stopped when the block ends."""
    # The workflow sandbox re-imports a workflow's module for every new run: with
    # PYTHONDONTWRITEBYTECODE set and no bytecode, it compiles the source each time.
    # Installed packages (the image) have bytecode; so should the measured tree.
    for package in ("workflows", "bench"):
        compileall.compile_dir(Path(__file__).parent.parent / package, quiet=1)
    root = Path(tempfile.mkdtemp(prefix=prefix))
    postgres = EmbeddedPostgres(root / "pg", free_port(), durable=False)
    postgres.start()
    try:
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=bin_path("temporal"),
            search_attributes=list(SEARCH_ATTRIBUTES),
            data_converter=DATA_CONVERTER,
            dev_server_log_level="error",
        )
        try:
            postgres.ensure_database("bench")
            url = postgres.url("bench")
            upgrade(url)
            queue = f"bench-{uuid.uuid4().hex[:6]}"
            yield Servers(root=root, postgres=postgres, env=env, url=url, queue=queue)
        finally:
            await env.shutdown()
    finally:
        postgres.stop()


@contextlib.asynccontextmanager
async def running_stack(deployed: bool, sandboxed: bool = True) -> AsyncIterator[Stack]:
    """Embedded PostgreSQL (in memory) and Temporal dev server, the demo tenant, the
    API and a worker on a fresh task queue: in this process (the API through httpx's
    ASGI transport), or with `deployed` as `oms api` (uvicorn, real HTTP) and
    `oms worker` processes, as in production. `sandboxed`: OMS_WORKFLOW_SANDBOX."""
    async with servers("oms-saga-") as started:
        env, queue = started.env, started.queue
        processes: dict[str, subprocess.Popen[bytes]] = {}
        try:
            settings = Settings(
                database_url=started.url,
                database_pool_size=20,
                temporal_task_queue=queue,
                temporal_address=started.temporal_address,
                workflow_sandbox=sandboxed,
            )
            engine = create_engine(settings)
            sessions = create_session_factory(engine)
            keys = await seed_demo(sessions, started.root / "keys.json")
            worker: Any = contextlib.nullcontext()
            if deployed:
                port = free_port()
                processes["api"] = spawn(oms("api"), settings, queue, port)
                processes["worker"] = spawn(oms("worker"), settings, queue, free_port())
                api = await served(port, *processes.values())
            else:
                worker = build_worker(env.client, sessions, queue, sandboxed=sandboxed)
                connection = TemporalConnection(settings, env.client)
                app = create_app(resources=Resources(settings, engine, sessions, connection))
                api = in_process(app)
            async with worker, api:
                yield Stack(
                    root=started.root,
                    postgres=started.postgres,
                    env=env,
                    settings=settings,
                    engine=engine,
                    sessions=sessions,
                    keys=keys,
                    api=api,
                    deployed=deployed,
                    processes=processes,
                )
            await engine.dispose()
        finally:
            for process in processes.values():
                process.terminate()
                process.wait(timeout=30)


@contextlib.contextmanager
def profiled(path: Path, pids: dict[str, int]) -> Iterator[None]:
    """Where the time goes while the block runs: with py-spy installed next to this
    Python, each process of `pids` is sampled (all threads, little overhead; the
    collapsed stacks are written to `path`.NAME.txt); without it, cProfile records
    this process's main thread (the event loop: client, and in-process API and
    worker) to `path`.prof. Prints the top 25 functions by cumulative time."""
    spy = Path(sys.executable).parent / "py-spy"
    if not spy.exists():
        profile = cProfile.Profile()
        profile.enable()
        try:
            yield
        finally:
            profile.disable()
            profile.dump_stats(path.with_suffix(".prof"))
            print(
                f"\nprofile of this process (cProfile; all of it in {path.with_suffix('.prof')}):"
            )
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        return
    outputs = {name: path.with_suffix(f".{name.replace(' ', '-')}.txt") for name in pids}
    spy_record = [str(spy), "record", "--format", "raw", "--rate", "100", "--nonblocking"]
    samplers = {
        name: subprocess.Popen(
            [*spy_record, "--pid", str(pid), "--output", str(outputs[name])],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, pid in pids.items()
    }
    try:
        yield
    finally:
        for sampler in samplers.values():
            sampler.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
            sampler.wait(timeout=60)
        for name, output in outputs.items():
            print(f"\nprofile of {name} (py-spy, collapsed stacks in {output}):")
            print(top_cumulative(output))


def top_cumulative(collapsed: Path, count: int = 25) -> str:
    """The functions found in most samples of py-spy's collapsed stacks (a function
    counts once per stack however deep it recurs), with the samples they run in
    themselves."""
    inside: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        frames = [LINE_NUMBER.sub(")", frame) for frame in stack.split(";")]
        total += int(samples)
        own[frames[-1]] += int(samples)
        for frame in set(frames):
            inside[frame] += int(samples)
    if not total:
        return "  (no samples: is the process allowed to be traced?)"
    rows = [f"  {total} samples (not idle); % cumulative, % own, function (file)"]
    rows += [
        f"  {n * 100 / total:5.1f} {own[frame] * 100 / total:5.1f}  {frame}"
        for frame, n in inside.most_common(count)
    ]
    return "\n".join(rows)
