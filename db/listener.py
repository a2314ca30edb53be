"""A background task on its own PostgreSQL connection that LISTENs for NOTIFYs, and
connects again after the connection (or a pass) fails: the API's key revocations
and the worker's events relay are two."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg
from sqlalchemy.engine import URL

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 5


class Listener:
    """Subclasses say what to do on the connection (`_listen`, which LISTENs, sets
    `listening` and loops); this runs it until stopped and never ends silently."""

    def __init__(self, url: URL, *, name: str, retry_seconds: float = 1.0) -> None:
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._name = name
        self._retry = retry_seconds
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self._name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _connect(self) -> psycopg.AsyncConnection[tuple[object, ...]]:
        return await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
        )

    async def _listen(self) -> None:
        raise NotImplementedError

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except (psycopg.Error, OSError) as error:
                log.warning("%s: connection lost (%s); retrying", self._name, error)
            except Exception:  # what it listens for would wait for a restart
                log.exception("%s: a pass failed; retrying", self._name)
            self.listening.clear()
            await asyncio.sleep(self._retry)
