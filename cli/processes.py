"""Child processes of `oms dev`: started in their own session, recorded on disk so a
later start can find and stop what a killed run left behind."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
from collections.abc import Collection
from pathlib import Path
from typing import IO

import psutil


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: the child gets SIGTERM if `oms dev` dies, even by SIGKILL."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def adopt_orphans() -> None:
    """Linux: processes our children leave running (the Postgres server pg_ctl starts)
    become our children, so we see them die and reap them (a zombie postmaster would
    keep a new one from starting on its data directory)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER


def reap(pid: int) -> int | None:
    """Our child's exit code (negative: killed by that signal) once it ended, reaping
    it; None while it runs. ChildProcessError when it is not our child."""
    done, status = os.waitpid(pid, os.WNOHANG)
    return None if done == 0 else os.waitstatus_to_exitcode(status)


def reap_orphans(keep: Collection[int]) -> None:
    """Reap adopted children that ended (a dead server's helpers); not those in `keep`,
    whose exit their owners read."""
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error, ChildProcessError):
            if child.pid not in keep and child.status() == psutil.STATUS_ZOMBIE:
                os.waitpid(child.pid, os.WNOHANG)


class ProcessRegistry:
    """A JSON file of {name: [pid, create_time]} for the processes we started."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, list[float]]:
        try:
            data: dict[str, list[float]] = json.loads(self.path.read_text())
            return data
        except (OSError, ValueError):
            return {}

    def record(self, name: str, pid: int) -> None:
        entries = self._load()
        entries[name] = [pid, psutil.Process(pid).create_time()]
        self.path.write_text(json.dumps(entries))

    def forget(self, name: str) -> None:
        entries = self._load()
        entries.pop(name, None)
        self.path.write_text(json.dumps(entries))

    def leftovers(self) -> dict[str, psutil.Process]:
        """Recorded processes that still run (same pid and start time)."""
        alive = {}
        for name, (pid, created) in self._load().items():
            try:
                process = psutil.Process(int(pid))
                if abs(process.create_time() - created) < 1 and process.is_running():
                    alive[name] = process
            except psutil.Error:
                continue
        return alive


def spawn(
    command: list[str],
    env: dict[str, str],
    stdout: IO[bytes] | None = None,
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.STDOUT if stdout is not None else None,
        start_new_session=True,  # Ctrl-C reaches only `oms dev`, which stops things in order
        preexec_fn=_die_with_parent,
    )


def terminate(process: psutil.Process | subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM, wait up to `timeout`, then SIGKILL."""
    try:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout)
    except (psutil.TimeoutExpired, subprocess.TimeoutExpired):
        process.kill()
        process.wait(5)
    except (psutil.NoSuchProcess, ProcessLookupError):
        pass


def pid_alive(pid: int) -> bool:
    try:
        process = psutil.Process(pid)
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def read_lock(path: Path) -> int | None:
    """The pid of a live `oms dev` holding this lock file, if any."""
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if pid != os.getpid() and pid_alive(pid) else None
