"""The event feed (every role): the tenant's events in order, for clients that read
rather than receive webhooks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from api.deps import PrincipalDep, ResourcesDep
from api.event_render import EventRenderer
from api.routing import api_router
from api.schemas.common import (
    Cursor,
    CursorId,
    Keyword,
    Limit,
    Printable,
    decode_cursor,
    encode_cursor,
)
from api.schemas.events import EventPage, EventPublic
from db.events import read_feed
from domain.errors import InvalidInput
from domain.events import Subject, check_patterns

router = api_router(prefix="/v1/events", tags=["events"])

TypeFilter = Annotated[
    list[Keyword] | None,
    Query(
        description="event types to read (`order.shipped`), a subject's (`order.*`) or"
        " `*`; repeat it or separate with commas; all when absent"
    ),
]
SubjectFilter = Annotated[
    Annotated[str, Printable(max_length=240)] | None,
    Query(
        description="one subject's events: `<type>:<id>`, e.g. `order:SO-1001`",
        examples=["order:SO-1001"],
    ),
]


@router.get("", response_model=EventPage, summary="The tenant's events in order, after a cursor")
async def get_events(
    principal: PrincipalDep,
    resources: ResourcesDep,
    after: Cursor | None = None,
    type: TypeFilter = None,
    subject: SubjectFilter = None,
    limit: Annotated[Limit, Query()] = 100,
) -> EventPage:
    position = decode_cursor(after, CursorId, "after")
    async with resources.sessions() as session:
        events = await read_feed(
            session,
            principal.tenant_id,
            after=position,
            types=_patterns(type or []),
            subject=_subject(subject),
            limit=limit,
        )
    items = await EventRenderer(resources.sessions).envelopes(events)
    last = events[-1].position if events else None
    return EventPage(
        items=[EventPublic.model_validate(item) for item in items],
        next_cursor=after if last is None else encode_cursor(last),
    )


def _patterns(values: list[str]) -> list[str]:
    wanted = [p.strip() for value in values for p in value.split(",") if p.strip()]
    try:
        return check_patterns(wanted)
    except ValueError as error:
        raise InvalidInput(str(error), field="type") from error


def _subject(value: str | None) -> tuple[str, str] | None:
    if value is None:
        return None
    kind, colon, subject_id = value.partition(":")
    if not colon or not subject_id or kind not in {s.value for s in Subject}:
        known = ", ".join(s.value for s in Subject)
        raise InvalidInput(f"subject is `<type>:<id>` with a type of {known}", field="subject")
    return kind, subject_id
