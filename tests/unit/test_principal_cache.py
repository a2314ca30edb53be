from api.resources import PrincipalCache
from db.tenants import Principal
from domain.roles import Role

WHO = Principal(1, "demo", Role.WMS, "abc123def456")


def test_a_cached_key_is_found_until_forgotten() -> None:
    cache = PrincipalCache(ttl=60)
    assert cache.get("oms_abc123def456_secret") is None
    cache.put("oms_abc123def456_secret", WHO)
    assert cache.get("oms_abc123def456_secret") == WHO
    assert cache.get("oms_abc123def456_other") is None
    cache.forget("abc123def456")
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
