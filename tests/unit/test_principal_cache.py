import asyncio

from api.key_cache import PrincipalCache
from db.tenants import Principal
from domain.roles import Role

WHO = Principal(1, "demo", Role.WMS, "abc123def456")


def test_a_cached_key_is_found_until_forgotten() -> None:
    cache = PrincipalCache(ttl=60)
    assert cache.get("oms_abc123def456_secret") is None
    cache.put("oms_abc123def456_secret", WHO)
    assert cache.get("oms_abc123def456_secret") == WHO
    assert cache.get("oms_abc123def456_other") is None
    cache.revoke("abc123def456")
    assert cache.get("oms_abc123def456_secret") is None


def test_entries_expire() -> None:
    cache = PrincipalCache(ttl=-1)
    cache.put("k", WHO)
    assert cache.get("k") is None


def test_the_cache_stays_bounded() -> None:
    cache = PrincipalCache(ttl=60, size=3)
    for n in range(10):
        cache.put(f"k{n}", WHO)
    assert cache.get("k9") == WHO
    assert sum(cache.get(f"k{n}") is not None for n in range(10)) <= 3


def test_a_key_read_before_its_revoke_committed_is_not_cached_after_the_revoke() -> None:
    # A request read the key as valid just before the revoke committed; it tries to
    # cache it after this process has applied the revoke.
    cache = PrincipalCache(ttl=60)
    cache.put("oms_abc123def456_secret", WHO)
    cache.revoke("abc123def456")
    cache.put("oms_abc123def456_secret", WHO)
    assert cache.get("oms_abc123def456_secret") is None
    assert cache.is_revoked("abc123def456")


def test_a_revoke_is_remembered_only_as_long_as_an_entry_could_live() -> None:
    cache = PrincipalCache(ttl=-1)
    cache.revoke("abc123def456")
    assert not cache.is_revoked("abc123def456")


async def test_requests_that_miss_the_same_key_at_once_read_it_once() -> None:
    cache = PrincipalCache(ttl=60)
    reads = 0
    release = asyncio.Event()

    async def read() -> Principal | None:
        nonlocal reads
        reads += 1
        await release.wait()
        return WHO

    waiting = [asyncio.create_task(cache.read_once("k", read)) for _ in range(5)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [WHO] * 5
    assert reads == 1
    assert await cache.read_once("k", read) == WHO  # a later miss reads again
    assert reads == 2


async def test_a_failed_read_fails_every_request_waiting_on_it_and_is_not_kept() -> None:
    cache = PrincipalCache(ttl=60)

    async def down() -> Principal | None:
        await asyncio.sleep(0)
        raise ConnectionError("database down")

    results = await asyncio.gather(
        cache.read_once("k", down), cache.read_once("k", down), return_exceptions=True
    )
    assert all(isinstance(r, ConnectionError) for r in results)

    async def up() -> Principal | None:
        return WHO

    assert await cache.read_once("k", up) == WHO
