"""Events out, the pure rules: filters, the retry schedule, Retry-After, where an
endpoint may point, and signatures a Standard Webhooks receiver verifies."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from domain.events import (
    RETRY_WAITS,
    EventType,
    Subject,
    check_patterns,
    matches,
    next_attempt_at,
    parse_retry_after,
)
from webhooks.guard import UnsafeUrl, check_url
from webhooks.signing import new_secret, signed_headers

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_every_event_type_names_its_subject() -> None:
    assert EventType.SHIPMENT_CREATED.subject is Subject.SHIPMENT
    assert EventType.REQUEST_PACKED.subject is Subject.FULFILLMENT_REQUEST
    assert {t.subject for t in EventType} == set(Subject)


def test_filters_take_types_subject_wildcards_and_a_star() -> None:
    assert check_patterns(["order.*", "alert.raised", "*", "order.*"]) == [
        "order.*",
        "alert.raised",
        "*",
    ]
    for unknown in ("order.sent", "orders.*", "order", "*.shipped", ""):
        with pytest.raises(ValueError, match="unknown event type"):
            check_patterns([unknown])


@given(st.sampled_from(list(EventType)))
def test_a_subject_wildcard_matches_exactly_its_subjects_types(event_type: EventType) -> None:
    assert matches([f"{event_type.subject}.*"], event_type)
    assert matches(["*"], event_type)
    assert matches([event_type.value], event_type)
    others = [t for t in EventType if t.subject is not event_type.subject]
    assert not any(matches([f"{event_type.subject}.*"], t) for t in others)


@given(st.integers(min_value=1, max_value=len(RETRY_WAITS)), st.integers())
def test_each_retry_waits_its_scheduled_time_within_the_jitter(attempts: int, seed: int) -> None:
    at = next_attempt_at(attempts, NOW, rng=random.Random(seed))
    assert at is not None
    wait = RETRY_WAITS[attempts - 1]
    assert wait * 0.9 <= at - NOW <= wait * 1.1


def test_the_schedule_is_exhausted_after_its_last_wait() -> None:
    assert next_attempt_at(len(RETRY_WAITS) + 1, NOW) is None
    with pytest.raises(ValueError):
        next_attempt_at(0, NOW)


def test_retry_after_lengthens_a_wait_up_to_a_day_but_never_shortens_it() -> None:
    longer = next_attempt_at(1, NOW, retry_after=timedelta(minutes=10))
    assert longer == NOW + timedelta(minutes=10)
    capped = next_attempt_at(1, NOW, retry_after=timedelta(days=9))
    assert capped == NOW + timedelta(days=1)
    shorter = next_attempt_at(3, NOW, retry_after=timedelta(seconds=1))
    assert shorter is not None and shorter - NOW >= timedelta(minutes=27)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert parse_retry_after("120", NOW) == timedelta(seconds=120)
    assert parse_retry_after("Tue, 01 Dec 2026 12:05:00 GMT", NOW) == timedelta(minutes=5)
    assert parse_retry_after("Tue, 01 Dec 2026 11:00:00 GMT", NOW) == timedelta(0)
    for unreadable in (None, "", "soon", "-5"):
        assert parse_retry_after(unreadable, NOW) is None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.com/hook", "http:// or https://"),
        ("https://user:pw@example.com/hook", "credentials"),
        ("https:///hook", "host"),
        ("http://127.0.0.1:8080/hook", "non-public"),
        ("http://10.1.2.3/hook", "non-public"),
        ("http://169.254.169.254/latest/meta-data", "non-public"),
        ("http://[::1]/hook", "non-public"),
        ("http://[::ffff:192.168.0.1]/hook", "non-public"),
        ("http://[2002:7f00:1::]/hook", "non-public"),  # 6to4 of 127.0.0.1
        ("http://[64:ff9b::7f00:1]/hook", "non-public"),  # NAT64 of 127.0.0.1
        ("http://[::127.0.0.1]/hook", "non-public"),  # IPv4-compatible
        ("http://localhost:9000/hook", "localhost"),
        ("https://example.com:99999/hook", "valid URL"),
    ],
)
def test_unsafe_urls_are_refused_saying_why(url: str, why: str) -> None:
    with pytest.raises(UnsafeUrl, match=why):
        check_url(url, allow_private=False)


def test_private_addresses_are_allowed_only_when_settings_say_so() -> None:
    assert check_url("http://127.0.0.1:8080/hook", allow_private=True)
    assert check_url("https://hooks.example.com/oms", allow_private=False)
    with pytest.raises(UnsafeUrl):
        check_url("https://user@127.0.0.1/", allow_private=True)


def test_a_delivery_signed_with_two_secrets_verifies_with_either() -> None:
    new, old = new_secret(), new_secret()
    assert new.startswith("whsec_") and new != old
    body = b'{"id":"evt_1","type":"order.created"}'
    headers = signed_headers("evt_1", body, [new, old], datetime.now(UTC))
    assert headers["webhook-id"] == "evt_1"
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (new, old):
        assert Webhook(secret).verify(body, headers) == {"id": "evt_1", "type": "order.created"}
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new).verify(body + b" ", headers)
