"""What the API process holds for its lifetime: built once, closed once."""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client

from db.engine import create_engine, create_session_factory
from db.tenants import Principal
from settings import Settings
from workflows.client import connect


class TemporalConnection:
    """A Temporal client connected on first use, so the API starts (and reports
    not ready) while Temporal is still down."""

    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        self._settings = settings
        self._client = client
        self._lock = asyncio.Lock()

    async def get(self) -> Client:
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    self._client = await connect(self._settings)
        return self._client


class PrincipalCache:
    """Recently authenticated keys, for `ttl` seconds: saves a database round trip
    per request. A revoked key stops working here at once, in other API processes
    within `ttl`."""

    def __init__(self, ttl: float = 10.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[str, tuple[Principal, float]] = {}

    @staticmethod
    def _digest(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def get(self, key: str) -> Principal | None:
        entry = self._entries.get(self._digest(key))
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def put(self, key: str, principal: Principal) -> None:
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[self._digest(key)] = (principal, time.monotonic() + self.ttl)

    def forget(self, key_id: str) -> None:
        for digest, (principal, _) in list(self._entries.items()):
            if principal.key_id == key_id:
                del self._entries[digest]


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    temporal: TemporalConnection
    owns_engine: bool = field(default=False)
    principals: PrincipalCache = field(default_factory=PrincipalCache)

    @classmethod
    def build(cls, settings: Settings) -> Resources:
        engine = create_engine(settings)
        return cls(
            settings=settings,
            engine=engine,
            sessions=create_session_factory(engine),
            temporal=TemporalConnection(settings),
            owns_engine=True,
        )

    async def close(self) -> None:
        if self.owns_engine:
            await self.engine.dispose()
