"""`oms dev`: the whole stack on embedded defaults, in the foreground.

Order of start: Postgres → Temporal (+UI) → migrations → demo seed → worker → API →
a stack check workflow. Then it supervises: a part that dies is started again after a
backoff (cli/restarts.py), and one that keeps dying ends the stack. Ctrl-C (or
SIGTERM) stops the parts in reverse order."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from cli.embedded import (
    EmbeddedError,
    EmbeddedPostgres,
    port_in_use,
    temporal_dev_server_command,
)
from cli.parts import ChildProcess, Part, PostgresServer, last_lines
from cli.processes import ProcessRegistry, adopt_orphans, read_lock, reap_orphans, terminate
from cli.restarts import DeathRecord, GiveUp, RestartPolicy
from cli.seed import seed_demo
from db.engine import create_engine, create_session_factory
from db.migrate import upgrade
from domain.roles import Role
from observability.serving import temporal_metrics_url, worker_metrics_url
from settings import Settings

DATABASE = "oms"
POLL = 0.2  # seconds between looks at the parts
# A part is not started again while a part it needs is down: the worker exits when
# it cannot reach Temporal, and would use up its restarts on Temporal's account.
NEEDS = {"worker": ("temporal",)}


class DevStack:
    def __init__(self, settings: Settings, say: Callable[[str], None] = print) -> None:
        self.data = settings.data_dir.resolve()
        self.say = say
        self.postgres = EmbeddedPostgres(self.data / "postgres", settings.postgres_port)
        port = settings.temporal_address.rpartition(":")[2]
        self.temporal_port = int(port)
        # The stack's own parts, whatever OMS_DATABASE_URL says.
        self.settings = settings.model_copy(
            update={
                "database_url": self.postgres.url(DATABASE),
                "temporal_address": f"127.0.0.1:{self.temporal_port}",
                # a webhook receiver you try on this machine listens on localhost
                "webhooks_allow_private_urls": True,
            }
        )
        self.registry = ProcessRegistry(self.data / "processes.json")
        self.lock = self.data / "dev.pid"
        self.policy = RestartPolicy(limit=settings.dev_restart_limit)
        self.parts: dict[str, Part] = {}  # in order of start
        self.down: dict[str, float] = {}  # parts that died: when to start them again
        self._stop = False

    # -- lifecycle ---------------------------------------------------------------

    def run(self) -> int:
        self.data.mkdir(parents=True, exist_ok=True)
        (self.data / "logs").mkdir(exist_ok=True)
        other = read_lock(self.lock)
        if other is not None:
            self.say(f"oms dev is already running (pid {other}); stop it first.")
            return 1
        self.lock.write_text(str(os.getpid()))
        adopt_orphans()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._request_stop)
        code = 1
        try:
            self._stop_leftovers()
            self._start()
            code = self._supervise()
        except EmbeddedError as error:
            self.say(f"oms dev: {error}")
        finally:
            if not self._shutdown():
                code = 1
            self.lock.unlink(missing_ok=True)
        return code

    def _request_stop(self, signum: int, frame: FrameType | None) -> None:
        self._stop = True

    def _stop_leftovers(self) -> None:
        for name, process in self.registry.leftovers().items():
            self.say(f"stopping {name} (pid {process.pid}) left over by an earlier run")
            terminate(process, timeout=15)
            self.registry.forget(name)
        pid = self.postgres.running_pid()
        if pid is not None:
            self.say(f"stopping postgres (pid {pid}) left over by an earlier run")
            self.postgres.stop()

    def _start(self) -> None:
        s = self.settings
        for port, name, var in (
            (self.temporal_port, "Temporal", "OMS_TEMPORAL_ADDRESS"),
            (s.temporal_ui_port, "Temporal UI", "OMS_TEMPORAL_UI_PORT"),
            (s.api_port, "API", "OMS_API_PORT"),
        ):
            if port_in_use(port):
                raise EmbeddedError(f"port {port} for the {name} is taken; set {var}")
        self.say(
            f"postgres   starting on 127.0.0.1:{s.postgres_port} (data in {self.postgres.pgdata})"
        )
        self._start_part(PostgresServer(self.postgres))
        self.postgres.ensure_database(DATABASE)
        self.say(f"temporal   starting on 127.0.0.1:{self.temporal_port}, UI :{s.temporal_ui_port}")
        self._start_part(
            self._child(
                "temporal",
                temporal_dev_server_command(
                    self.data / "temporal.db",
                    self.temporal_port,
                    s.temporal_ui_port,
                    s.temporal_namespace,
                ),
                log=self.data / "logs" / "temporal.log",
                ports=(self.temporal_port, s.temporal_ui_port),
            )
        )
        self.say("migrating  database")
        upgrade(s.database_url)
        keys = asyncio.run(self._seed())
        self._start_part(self._child("worker", [sys.executable, "-m", "worker"]))
        # `oms api`, not bare uvicorn: it leaves without interpreter teardown (see _exit)
        api = [sys.executable, "-m", "cli.main", "api"]
        self._start_part(self._child("api", api, ports=(s.api_port,)))
        from cli.check import start_checks_and_schedules

        result = asyncio.run(start_checks_and_schedules(s, "oms dev"))
        self.say(f"checked    worker reached PostgreSQL {result.database.server_version}")
        from workflows.schedules import schedules

        every = ", ".join(schedules(s.temporal_task_queue))
        self.say(f"scheduled  {every}: every few minutes")
        self._banner(keys)

    async def _seed(self) -> dict[Role, str]:
        engine = create_engine(self.settings)
        try:
            return await seed_demo(create_session_factory(engine), self.data / "demo-keys.json")
        finally:
            await engine.dispose()

    def _child(
        self, name: str, command: list[str], log: Path | None = None, ports: tuple[int, ...] = ()
    ) -> ChildProcess:
        env = {**os.environ, **_settings_env(self.settings)}
        return ChildProcess(name, command, env, self.registry, log=log, ports=ports)

    def _start_part(self, part: Part) -> None:
        self.parts[part.name] = part
        part.start()

    # -- supervision -------------------------------------------------------------

    def _supervise(self) -> int:
        """Until Ctrl-C: start again what died, after a growing delay; 1 when a part
        keeps dying."""
        records = {name: DeathRecord(policy=self.policy) for name in self.parts}
        due = self.down
        while not self._stop:
            for name, part in self.parts.items():
                now = time.monotonic()
                if name not in due:
                    how = part.death()
                elif now < due[name] or any(need in due for need in NEEDS.get(name, ())):
                    continue
                else:
                    how = self._restart(part)
                    if how is None:
                        del due[name]
                if how is None:
                    continue
                decision = records[name].died(now)
                if isinstance(decision, GiveUp):
                    self._give_up(part, how, decision)
                    return 1
                self.say(f"{name:<10} {how}; restart {decision.count} in {decision.delay:g}s")
                due[name] = now + decision.delay
            time.sleep(POLL)
        self.say("stopping   (Ctrl-C)")
        return 0

    def _restart(self, part: Part) -> str | None:
        """Start a part again; None once it answers, else why it did not."""
        reap_orphans(keep={p.pid for p in self.parts.values() if p.pid is not None})
        try:
            part.start()
        except EmbeddedError as error:
            return f"did not start again: {error}"
        self.say(f"{part.name:<10} restarted (pid {part.pid})")
        return None

    def _give_up(self, part: Part, how: str, decision: GiveUp) -> None:
        self.say(
            f"{part.name:<10} died {decision.deaths} times within {decision.window:g}s, "
            f"last {how}; giving up and stopping everything"
        )
        self.down[part.name] = time.monotonic()
        log = part.log()
        if log is None:
            self.say("           its output is above")
            return
        lines = last_lines(log)
        self.say(f"           last lines of {log}:")
        for line in lines:
            self.say(f"             {line}")

    def _shutdown(self) -> bool:
        """Stop everything in reverse order; False if a part did not stop cleanly."""
        clean = True
        for name in reversed(list(self.parts)):
            part = self.parts.pop(name)
            problem = part.stop()
            if name in self.down:
                self.say(f"stopped    {name} (it was down)")
            elif problem is not None:
                self.say(f"stopped    {name} ({problem})")
                clean = False
            else:
                self.say(f"stopped    {name}")
        return clean

    def _banner(self, keys: dict[Role, str]) -> None:
        s = self.settings
        api = f"http://{s.api_host}:{s.api_port}"
        lines = [
            "",
            "The stack is up. Ctrl-C stops all of it.",
            f"  console       {api}/console (sign in with one of the keys below)",
            f"  API docs      {api}/docs",
            f"  readiness     {api}/readyz",
            f"  Temporal UI   http://127.0.0.1:{s.temporal_ui_port}",
            f"  Temporal gRPC 127.0.0.1:{self.temporal_port} (namespace {s.temporal_namespace})",
            f"  PostgreSQL    postgresql://postgres@127.0.0.1:{s.postgres_port}/{DATABASE}",
            *_metrics_lines(s),
            "  Demo tenant 'demo', API keys:",
            *(f"    {role.value:<7} {key}" for role, key in keys.items()),
            "",
            f"  try: curl -H 'Authorization: Bearer {keys[Role.VIEWER]}' {api}/v1/me",
            "  events: the feed at GET /v1/events; webhook endpoints (admin key) at",
            "  /v1/webhook-endpoints, their deliveries at GET /v1/webhook-deliveries;",
            "  each endpoint's delivery runs in the Temporal UI: search WebhookEndpoint=<id>",
            "  (localhost receivers are allowed here; README, 'Events and webhooks')",
            "",
        ]
        self.say("\n".join(lines))


def _metrics_lines(settings: Settings) -> list[str]:
    """Where Prometheus scrapes the worker (the API's are at /metrics)."""
    urls = [
        ("  metrics       ", worker_metrics_url(settings), "worker"),
        ("  SDK metrics   ", temporal_metrics_url(settings), "Temporal SDK"),
    ]
    return [f"{label}{url} ({what})" for label, url, what in urls if url]


def _settings_env(settings: Settings) -> dict[str, str]:
    """The settings as OMS_* variables for the child processes."""
    env = {}
    for name, value in settings.model_dump(exclude_none=True).items():
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"OMS_{name.upper()}"] = str(value).lower() if isinstance(value, bool) else str(value)
    return env
