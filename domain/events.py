"""Events out: the catalogue of business events, the filters endpoints subscribe with,
and the retry schedule of a webhook delivery. Pure rules; the outbox (db/events.py)
writes events in the transaction of the change that causes them."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any


class Subject(StrEnum):
    """What an event is about; events of one subject carry a sequence (1, 2, ...)."""

    ORDER = "order"
    FULFILLMENT_REQUEST = "fulfillment_request"
    SHIPMENT = "shipment"
    RETURN = "return"
    TRANSFER = "transfer"
    INVENTORY = "inventory"  # one SKU in one warehouse: subject id "<warehouse>/<sku>"
    ALERT = "alert"
    PURCHASE_ORDER = "purchase_order"
    RECALL = "recall"


class EventType(StrEnum):
    ORDER_CREATED = "order.created"
    ORDER_STATUS_CHANGED = "order.status_changed"
    ORDER_SHIPPED = "order.shipped"
    ORDER_CANCELED = "order.canceled"
    REQUEST_CREATED = "fulfillment_request.created"
    REQUEST_ACCEPTED = "fulfillment_request.accepted"
    REQUEST_PICKED = "fulfillment_request.picked"
    REQUEST_PACKED = "fulfillment_request.packed"
    REQUEST_SHIPPED = "fulfillment_request.shipped"
    REQUEST_CANCELED = "fulfillment_request.canceled"
    SHIPMENT_CREATED = "shipment.created"
    RETURN_REQUESTED = "return.requested"
    RETURN_APPROVED = "return.approved"
    RETURN_REJECTED = "return.rejected"
    RETURN_RECEIVED = "return.received"
    RETURN_CLOSED = "return.closed"
    TRANSFER_SHIPPED = "transfer.shipped"
    TRANSFER_RECEIVED = "transfer.received"
    TRANSFER_COMPLETED = "transfer.completed"
    TRANSFER_CANCELED = "transfer.canceled"
    INVENTORY_LOW_STOCK = "inventory.low_stock"
    INVENTORY_OUT_OF_STOCK = "inventory.out_of_stock"
    INVENTORY_BACK_IN_STOCK = "inventory.back_in_stock"
    ALERT_RAISED = "alert.raised"
    ALERT_RESOLVED = "alert.resolved"
    PURCHASE_ORDER_CREATED = "purchase_order.created"
    PURCHASE_ORDER_RECEIVED = "purchase_order.received"  # a receipt (partial or last)
    PURCHASE_ORDER_CLOSED = "purchase_order.closed"  # received in full, closed short, canceled
    RECALL_STARTED = "recall.started"
    RECALL_COMPLETED = "recall.completed"

    @property
    def subject(self) -> Subject:
        return Subject(self.value.split(".", 1)[0])


# The schema version of each type's payload: raised when a field changes meaning or
# goes away (adding a field does not raise it).
VERSIONS: Mapping[EventType, int] = {t: 1 for t in EventType}


@dataclass(frozen=True, kw_only=True)
class NewEvent:
    """An event to write with the change that causes it. `data` is the subject as the
    service's contracts hold it (JSON-ready); the edges render it as the API shows it."""

    tenant_id: int
    type: EventType
    subject_id: str
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def subject(self) -> Subject:
        return self.type.subject


# -- subscriptions --------------------------------------------------------------------

WILDCARD = "*"


def check_patterns(patterns: Iterable[str]) -> list[str]:
    """The event-type filter of an endpoint, each entry a type (`order.shipped`), a
    subject's wildcard (`order.*`) or `*`; ValueError names an unknown entry."""
    known = {t.value for t in EventType}
    subjects = {s.value for s in Subject}
    checked: list[str] = []
    for pattern in patterns:
        prefix, dot, rest = pattern.partition(".")
        if not (
            pattern in known or pattern == WILDCARD or (dot and rest == "*" and prefix in subjects)
        ):
            raise ValueError(f"unknown event type {pattern!r}")
        if pattern not in checked:
            checked.append(pattern)
    return checked


def matches(patterns: Iterable[str], event_type: str) -> bool:
    """Whether an endpoint subscribed with `patterns` receives events of this type."""
    subject = event_type.split(".", 1)[0]
    return any(p in (WILDCARD, event_type, f"{subject}.*") for p in patterns)


# -- the retry schedule -----------------------------------------------------------------

# After the first attempt fails, the next ones follow these waits (Standard Webhooks'
# suggested schedule): about three days in all, then the endpoint is disabled.
RETRY_WAITS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
JITTER = 0.1  # each wait is moved by up to ±10 %, so retries of many events spread
MAX_RETRY_AFTER = timedelta(hours=24)  # a receiver's Retry-After is honoured up to this


def next_attempt_at(
    attempts: int,
    now: datetime,
    *,
    retry_after: timedelta | None = None,
    rng: random.Random | None = None,
) -> datetime | None:
    """When to try again after `attempts` failed attempts (None: the schedule is
    exhausted). A receiver's Retry-After (429/503) replaces the scheduled wait when
    it asks for longer, up to a day."""
    if attempts < 1:
        raise ValueError("attempts counts the failed attempts: at least 1")
    if attempts > len(RETRY_WAITS):
        return None
    wait = RETRY_WAITS[attempts - 1]
    wait = wait * (1 + (rng or random).uniform(-JITTER, JITTER))
    if retry_after is not None:
        wait = max(wait, min(retry_after, MAX_RETRY_AFTER))
    return now + wait


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """An HTTP Retry-After header (delay in seconds or an HTTP date) as a wait;
    None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        at = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if at.tzinfo is None:
        return None
    return max(at - now, timedelta(0))
