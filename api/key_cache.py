"""Recently authenticated API keys, and how a revoke reaches every API process.

A key found valid is remembered for `ttl` seconds (saves a database round trip per
request). A revoke must win over that:

* on the revoking process, `revoke(key_id)` runs after the revoke committed: it drops
  the key's entries and keeps a tombstone for `ttl`, so a request that read the key
  from the database just before the commit cannot put it back;
* on every other process, the revoke's `NOTIFY` (sent by the committing transaction)
  reaches `RevocationListener`, which calls `revoke` the same way — within
  milliseconds while its connection is up. While it is down (Postgres restarting) the
  cache is cleared on reconnect, and `ttl` bounds how long a revoked key may work.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable

from sqlalchemy.engine import URL

from db.items import UNITS_CHANNEL
from db.listener import Listener
from db.tenants import REVOCATIONS_CHANNEL, Principal

log = logging.getLogger(__name__)


class PrincipalCache:
    def __init__(self, ttl: float = 10.0, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._revoked: dict[str, float] = {}  # key id -> until when it stays refused here
        self._reading: dict[str, asyncio.Future[Principal | None]] = {}  # digest -> read

    @staticmethod
    def _digest(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    def get(self, key: str) -> Principal | None:
        entry = self._entries.get(self._digest(key))
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    async def read_once(
        self, key: str, read: Callable[[], Awaitable[Principal | None]]
    ) -> Principal | None:
        """`read()` the key's principal, once for every request that asks for the same
        key while the read runs (an expired entry would otherwise send each request
        of a burst to the database). The caller checks revokes and caches, as after
        any read."""
        digest = self._digest(key)
        pending = self._reading.get(digest)
        if pending is None:
            pending = self._reading[digest] = asyncio.ensure_future(read())
            pending.add_done_callback(lambda _: self._reading.pop(digest, None))
        # one request canceled does not cancel the read the others wait for
        return await asyncio.shield(pending)

    def is_revoked(self, key_id: str) -> bool:
        until = self._revoked.get(key_id)
        return until is not None and until >= time.monotonic()

    def put(self, key: str, principal: Principal) -> None:
        """Remember a key read as valid, unless it was revoked since (the read may
        predate the revoke's commit)."""
        if self.is_revoked(principal.key_id):
            return
        if len(self._entries) >= self.size:
            self._entries.clear()
        self._entries[self._digest(key)] = (principal, time.monotonic() + self.ttl)

    def revoke(self, key_id: str) -> None:
        """Forget a revoked key and refuse to remember it again for `ttl` (by then
        any read that started before the revoke has ended)."""
        now = time.monotonic()
        for digest, (principal, _) in list(self._entries.items()):
            if principal.key_id == key_id:
                del self._entries[digest]
        self._revoked = {k: until for k, until in self._revoked.items() if until >= now}
        self._revoked[key_id] = now + self.ttl

    def clear(self) -> None:
        self._entries.clear()


class RevocationListener(Listener):
    """LISTENs for revoked key ids on its own connection and revokes them in `cache`;
    reconnects after `retry_seconds` when the connection is lost."""

    def __init__(
        self,
        url: URL,
        cache: PrincipalCache,
        retry_seconds: float = 1.0,
        units_changed: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(url, name="API key revocations", retry_seconds=retry_seconds)
        self._cache = cache
        self._units_changed = units_changed  # also hears of items whose unit changed

    async def _listen(self) -> None:
        async with await self._connect() as conn:
            await conn.execute(f"LISTEN {REVOCATIONS_CHANNEL}")
            if self._units_changed is not None:
                await conn.execute(f"LISTEN {UNITS_CHANNEL}")
            # Revokes sent while this process was not listening are unknown: start over.
            self._cache.clear()
            self.listening.set()
            async for notice in conn.notifies():
                if notice.channel == UNITS_CHANNEL and self._units_changed is not None:
                    self._units_changed(notice.payload)
                else:
                    self._cache.revoke(notice.payload)
