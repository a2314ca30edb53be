"""What one webhook attempt's answer means for its delivery and its endpoint. Pure
rules; activities/webhooks.py sends, db/webhook_deliveries.py records."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.events import RETRY_WAITS, next_attempt_at, parse_retry_after

# Statuses whose Retry-After a receiver sends to say when to come back.
RETRY_AFTER_STATUSES = frozenset({429, 503})
GONE = 410  # the receiver says the endpoint is gone for good: disable it
MAX_ATTEMPTS = 1 + len(RETRY_WAITS)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # the retry schedule is exhausted


@dataclass(frozen=True, kw_only=True)
class Answer:
    """How an attempt ended: the receiver's status code (None: no answer, `error`
    says why) and its Retry-After header."""

    status_code: int | None
    error: str | None = None
    retry_after: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, kw_only=True)
class AfterAttempt:
    status: DeliveryStatus
    attempts: int  # made so far, this one included
    next_attempt_at: datetime | None  # pending only
    disable_endpoint: str | None = None  # the reason, when the endpoint stops receiving


def after_attempt(
    answer: Answer, *, attempts_before: int, now: datetime, rng: random.Random | None = None
) -> AfterAttempt:
    """The delivery after one more attempt answered `answer` at `now`: delivered on
    2xx; otherwise pending until the next attempt of the schedule (a 429/503's
    Retry-After honoured), failed once the schedule is exhausted (the endpoint is
    disabled). A 410 disables the endpoint and leaves the delivery pending: enabled
    again, it resumes."""
    attempts = attempts_before + 1
    if answer.ok:
        return AfterAttempt(
            status=DeliveryStatus.DELIVERED, attempts=attempts, next_attempt_at=None
        )
    retry_after = (
        parse_retry_after(answer.retry_after, now)
        if answer.status_code in RETRY_AFTER_STATUSES
        else None
    )
    at = next_attempt_at(attempts, now, retry_after=retry_after, rng=rng)
    if at is None:
        return AfterAttempt(
            status=DeliveryStatus.FAILED,
            attempts=attempts,
            next_attempt_at=None,
            disable_endpoint=f"failing: {attempts} attempts of one delivery without a 2xx",
        )
    gone = "gone: the receiver answered 410" if answer.status_code == GONE else None
    return AfterAttempt(
        status=DeliveryStatus.PENDING, attempts=attempts, next_attempt_at=at, disable_endpoint=gone
    )
