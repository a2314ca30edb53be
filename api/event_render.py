"""An event as a receiver gets it (the feed and every webhook delivery): the
envelope, with `data` the subject as the API shows it."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.lots_service import render_recall
from api.order_events import ORDER_RENDERERS
from api.subject_renderers import warehouse_renderers
from contracts.events import StoredEvent

# subject type -> how the API shows that subject, from its stored contract view
SubjectRenderer = Callable[[async_sessionmaker[AsyncSession], StoredEvent], Awaitable[Any]]
RENDERERS: dict[str, SubjectRenderer] = {
    **ORDER_RENDERERS,
    **warehouse_renderers(),  # return, transfer, inventory, alert
    "recall": render_recall,
}


def envelope(event: StoredEvent, data: Any) -> dict[str, Any]:
    return {
        "id": event.event_id,
        "type": event.type,
        "version": event.version,
        "tenant": event.tenant,
        "occurred_at": event.occurred_at.isoformat(),
        "subject": {"type": event.subject_type, "id": event.subject_id},
        "sequence": event.sequence,
        "data": data,
    }


class EventRenderer:
    """`contracts.events.RenderEvents` for the feed and the worker's deliveries."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def envelopes(self, events: Sequence[StoredEvent]) -> list[dict[str, Any]]:
        out = []
        for event in events:
            render = RENDERERS.get(event.subject_type)
            data = event.data if render is None else await render(self._sessions, event)
            out.append(envelope(event, data))
        return out

    async def __call__(self, events: Sequence[StoredEvent]) -> list[bytes]:
        return [
            json.dumps(e, separators=(",", ":"), default=str).encode()
            for e in await self.envelopes(events)
        ]
