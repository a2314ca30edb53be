"""The parts `oms dev` supervises: a child process it spawns (Temporal, worker, API)
or the Postgres server that pg_ctl starts in the background. Each can be started
again after it died, says how it died, and stops."""

from __future__ import annotations

import signal
import subprocess
from collections import deque
from pathlib import Path
from typing import Protocol

from cli.embedded import EmbeddedError, EmbeddedPostgres, wait_for_port
from cli.processes import ProcessRegistry, pid_alive, reap, spawn, terminate

READY_TIMEOUT = 30.0  # seconds a restarted part has to open its ports


class Part(Protocol):
    name: str

    @property
    def pid(self) -> int | None:
        """Its process id once started."""

    def start(self) -> None:
        """Start and return once it answers; EmbeddedError when it does not."""

    def death(self) -> str | None:
        """None while it runs; else how it ended ("exited with code 1", "killed by SIGKILL")."""

    def stop(self) -> str | None:
        """Stop it; None when it stopped cleanly, else what was wrong."""

    def log(self) -> Path | None:
        """The file it writes its log to; None when it writes to the terminal."""


def last_lines(path: Path, count: int = 15) -> list[str]:
    try:
        with path.open("rb") as log:
            return [line.decode(errors="replace").rstrip() for line in deque(log, count)]
    except OSError:
        return []


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with code {code}"


class ChildProcess:
    """A process `oms dev` spawns and records in the registry; `ports` are the ports
    it must open before it counts as started."""

    def __init__(
        self,
        name: str,
        command: list[str],
        env: dict[str, str],
        registry: ProcessRegistry,
        *,
        log: Path | None = None,
        ports: tuple[int, ...] = (),
    ) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.registry = registry
        self._log = log
        self.ports = ports
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = self._log.open("ab") if self._log is not None else None
        try:
            self.process = spawn(self.command, self.env, stdout=out)
        finally:
            if out is not None:
                out.close()
        self.registry.record(self.name, self.process.pid)
        try:
            for port in self.ports:
                wait_for_port(port, READY_TIMEOUT, self.process)
        except EmbeddedError:
            # Alive but not serving: stop it, or the next start would leave it
            # running unsupervised, holding the port.
            terminate(self.process, timeout=10)
            raise

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def death(self) -> str | None:
        code = None if self.process is None else self.process.poll()
        return None if code is None else describe_exit(code)

    def stop(self) -> str | None:
        if self.process is None:
            return None
        terminate(self.process, timeout=25)
        self.registry.forget(self.name)
        # A clean stop exits 0 or by the SIGTERM; anything else (a crash, a kill) is news.
        code = self.process.returncode
        return None if code in (0, -signal.SIGTERM) else describe_exit(code)

    def log(self) -> Path | None:
        return self._log


class PostgresServer:
    """The embedded Postgres as a part: pg_ctl starts it in the background, so it is
    watched by the postmaster's pid, and a start waits until it accepts connections."""

    name = "postgres"

    def __init__(self, postgres: EmbeddedPostgres) -> None:
        self.postgres = postgres
        self.pid: int | None = None

    def start(self) -> None:
        self.postgres.start()  # pg_ctl -w: returns once connections are accepted
        self.pid = self.postgres.running_pid()

    def death(self) -> str | None:
        if self.pid is None:
            return None
        try:
            code = reap(self.pid)  # ours when `oms dev` adopts orphans (Linux)
        except ChildProcessError:
            return None if pid_alive(self.pid) else f"gone (postmaster pid {self.pid})"
        return None if code is None else describe_exit(code)

    def stop(self) -> str | None:
        self.postgres.stop()
        self.pid = None
        return None

    def log(self) -> Path | None:
        return self.postgres.pgdata / "server.log"
