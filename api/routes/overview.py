"""The overview: a tenant's figures of the day in one read (the console's first page)."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated

from fastapi import Query
from pydantic import AwareDatetime

from api.deps import PrincipalDep, SessionDep
from api.routing import api_router
from api.schemas.overview import OverviewPublic
from db.overview import overview

router = api_router(prefix="/v1/overview", tags=["overview"])


def start_of_day(now: datetime) -> datetime:
    """Midnight (UTC) of `now`'s day."""
    return datetime.combine(now.astimezone(UTC).date(), time(), tzinfo=UTC)


@router.get(
    "",
    response_model=OverviewPublic,
    summary="The tenant's figures: orders created today by status, fulfillment requests "
    "waiting per warehouse, backordered lines, open alerts by kind, transfers in transit, "
    "late purchase orders",
)
async def get_overview(
    principal: PrincipalDep,
    session: SessionDep,
    since: Annotated[
        AwareDatetime | None,
        Query(
            description="count orders created at or after this time (with a time zone); "
            "default: the start of today, UTC",
            examples=["2026-12-02T00:00:00Z"],
        ),
    ] = None,
) -> OverviewPublic:
    now = datetime.now(UTC)
    since = since or start_of_day(now)
    figures = await overview(session, principal.tenant_id, since=since, now=now)
    return OverviewPublic.of(figures, since=since, as_of=now)
