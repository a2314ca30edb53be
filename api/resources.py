"""What the API process holds for its lifetime: built once, closed once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client, Interceptor
from temporalio.service import RetryConfig

from api.key_cache import PrincipalCache, RevocationListener
from api.metrics import ApiMetrics, api_interceptors
from api.problems import TemporalUnreachable
from api.units import forget_units
from db.engine import create_engine, create_session_factory
from observability.tracing import Tracing
from settings import Settings
from workflows.client import connect


class TemporalConnection:
    """A Temporal client connected on first use, so the API starts (and reports
    not ready) while Temporal is still down. Its calls give up retrying an
    unreachable server after the RPC timeout, and connecting takes no longer."""

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

    @property
    def rpc_timeout(self) -> timedelta:
        """The deadline of one call to Temporal (start, query, signal, describe)."""
        return timedelta(seconds=self._settings.temporal_rpc_timeout_seconds)

    async def get(self) -> Client:
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    self._client = await self._connect()
        return self._client

    async def _connect(self) -> Client:
        bound = self._settings.temporal_rpc_timeout_seconds
        retry = RetryConfig(max_elapsed_time_millis=int(bound * 1000))
        try:
            async with asyncio.timeout(bound):
                return await connect(self._settings, self._interceptors, retry=retry)
        except TimeoutError as error:
            raise TemporalUnreachable(f"no answer within {bound:g}s") from error
        except RuntimeError as error:  # the SDK's "Failed client connect: …"
            raise TemporalUnreachable(str(error).splitlines()[0]) from error


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
            revocations=RevocationListener(engine.url, principals, units_changed=forget_units),
        )

    @cached_property
    def reads(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for reads that need no snapshot across statements: in autocommit,
        so a read is its statement's one round trip (no BEGIN before it, no ROLLBACK
        at close). Same pool as `sessions`; never write through these."""
        reading = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        return async_sessionmaker(reading, expire_on_commit=False)

    def start(self) -> None:
        """Start the background work (hearing of revoked keys); needs a running loop."""
        if self.revocations is not None:
            self.revocations.start()

    async def close(self) -> None:
        if self.revocations is not None:
            await self.revocations.stop()
        if self.owns_engine:
            await self.engine.dispose()
