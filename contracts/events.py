"""Events as stored in the outbox, and how the edges turn one into what a receiver
gets: the feed (API) and webhook deliveries (worker) render the same envelope."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True, kw_only=True)
class StoredEvent:
    event_id: str  # evt_…: the webhook-id of its every delivery
    tenant_id: int
    tenant: str  # the tenant's slug
    type: str
    version: int
    subject_type: str
    subject_id: str
    sequence: int
    occurred_at: datetime
    data: dict[str, Any] = field(default_factory=dict)  # the subject as contracts hold it
    position: int | None = None  # in the tenant's feed (None until published)


class RenderEvents(Protocol):
    """The JSON body a receiver gets for each event (the envelope with `data` as the
    API shows the subject), in the order given."""

    async def __call__(self, events: Sequence[StoredEvent]) -> list[bytes]: ...


# -- delivery: the relay wakes one workflow per endpoint (db.webhooks.endpoint_workflow_id),
# which sends what is due


@dataclass(frozen=True, kw_only=True)
class EndpointDeliveryInput:
    tenant_id: int
    endpoint_id: int
    history_limit: int | None = None  # events before continuing as new (None: the default)


@dataclass(frozen=True, kw_only=True)
class EndpointDeliveryResult:
    delivered: int = 0  # by this run (continued runs count their own)
    failed: int = 0


@dataclass(frozen=True, kw_only=True)
class DeliverDueInput:
    tenant_id: int
    endpoint_id: int
    now: datetime  # the workflow's clock: what is due, and when retries fall due


@dataclass(frozen=True, kw_only=True)
class DeliverDueResult:
    delivered: int = 0
    retrying: int = 0  # attempts that failed with a retry ahead
    failed: int = 0  # deliveries whose retry schedule ran out
    next_due: datetime | None = None  # None: nothing pending, or the endpoint stopped
    stopped: str | None = None  # why nothing more is sent: the endpoint is gone or disabled
