"""A TCP relay to Temporal that cuts its connections on demand, and an API of its
own (its own engine and Temporal connection) to put behind it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from api.app import create_app
from api.resources import Resources, TemporalConnection
from db.engine import create_engine, create_session_factory
from settings import Settings


@asynccontextmanager
async def api_for(
    settings: Settings, temporal: TemporalConnection
) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process API on `settings` (its own engine) and `temporal`."""
    engine = create_engine(settings)
    resources = Resources(settings, engine, create_session_factory(engine), temporal)
    transport = httpx.ASGITransport(app=create_app(resources=resources))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://oms.test") as client:
            yield client
    finally:
        await engine.dispose()


class CuttingProxy:
    """A TCP relay to Temporal whose open connections the test can cut at once, as
    the frontend does when a connection reaches its maximum age."""

    def __init__(self, target: str) -> None:
        self._host, port = target.rsplit(":", 1)
        self._port = int(port)
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self.address = ""  # host:port to connect to, while open
        self.connections = 0  # relayed so far
        self.cut_connections = 0  # of them, cut

    async def __aenter__(self) -> CuttingProxy:
        self._server = await asyncio.start_server(self.relay, "127.0.0.1", 0)
        self.address = f"127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *_: object) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(self._host, self._port)
        self._writers += [writer, upstream_writer]
        self.connections += 1
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
        )

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        sink.close()

    def cut(self) -> None:
        self.cut_connections += len(self._writers) // 2
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()
