"""What one webhook attempt's answer does to its delivery and its endpoint."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from domain.deliveries import MAX_ATTEMPTS, Answer, DeliveryStatus, after_attempt
from domain.events import RETRY_WAITS

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_2xx_delivers() -> None:
    after = after_attempt(Answer(status_code=204), attempts_before=2, now=NOW)
    assert (after.status, after.attempts, after.next_attempt_at) == (
        DeliveryStatus.DELIVERED,
        3,
        None,
    )


def test_a_failure_waits_for_the_schedules_next_step() -> None:
    after = after_attempt(
        Answer(status_code=None, error="refused"), attempts_before=0, now=NOW, rng=random.Random(1)
    )
    assert after.status is DeliveryStatus.PENDING and after.disable_endpoint is None
    assert after.next_attempt_at is not None
    assert abs(after.next_attempt_at - (NOW + RETRY_WAITS[0])) <= RETRY_WAITS[0] * 0.1


def test_the_last_failure_of_the_schedule_fails_the_delivery_and_disables_the_endpoint() -> None:
    after = after_attempt(Answer(status_code=500), attempts_before=MAX_ATTEMPTS - 1, now=NOW)
    assert after.status is DeliveryStatus.FAILED and after.attempts == 1 + len(RETRY_WAITS)
    assert after.disable_endpoint is not None


def test_a_410_disables_the_endpoint_and_keeps_the_delivery_for_when_it_is_enabled() -> None:
    after = after_attempt(Answer(status_code=410), attempts_before=0, now=NOW)
    assert after.status is DeliveryStatus.PENDING
    assert after.disable_endpoint is not None and "410" in after.disable_endpoint


def test_retry_after_counts_on_429_and_503_only() -> None:
    hour = {"retry_after": "3600"}
    for code in (429, 503):
        after = after_attempt(Answer(status_code=code, **hour), attempts_before=0, now=NOW)
        assert after.next_attempt_at == NOW + timedelta(hours=1)
    plain = after_attempt(Answer(status_code=500, **hour), attempts_before=0, now=NOW)
    assert plain.next_attempt_at is not None and plain.next_attempt_at < NOW + timedelta(minutes=1)
