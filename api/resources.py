"""What the API process holds for its lifetime: built once, closed once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client, Interceptor

from api.key_cache import PrincipalCache, RevocationListener
from api.metrics import ApiMetrics, api_interceptors
from db.engine import create_engine, create_session_factory
from observability.tracing import Tracing
from settings import Settings
from workflows.client import connect


class TemporalConnection:
    """A Temporal client connected on first use, so the API starts (and reports
    not ready) while Temporal is still down."""

    def __init__(
        self,
        settings: Settings,
        client: Client | None = None,
        interceptors: Sequence[Interceptor] = (),
    ) -> None:
        self._settings = settings
        self._client = client
        self._interceptors = interceptors
        self._lock = asyncio.Lock()

    async def get(self) -> Client:
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    self._client = await connect(self._settings, self._interceptors)
        return self._client


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    temporal: TemporalConnection
    owns_engine: bool = field(default=False)
    principals: PrincipalCache = field(default_factory=PrincipalCache)
    revocations: RevocationListener | None = None

    @classmethod
    def build(cls, settings: Settings, tracing: Tracing, metrics: ApiMetrics) -> Resources:
        engine = create_engine(settings)
        tracing.instrument_engine(engine)
        principals = PrincipalCache(ttl=settings.api_key_cache_seconds)
        return cls(
            settings=settings,
            engine=engine,
            sessions=create_session_factory(engine),
            temporal=TemporalConnection(settings, interceptors=api_interceptors(tracing, metrics)),
            owns_engine=True,
            principals=principals,
            revocations=RevocationListener(engine.url, principals),
        )

    def start(self) -> None:
        """Start the background work (hearing of revoked keys); needs a running loop."""
        if self.revocations is not None:
            self.revocations.start()

    async def close(self) -> None:
        if self.revocations is not None:
            await self.revocations.stop()
        if self.owns_engine:
            await self.engine.dispose()
