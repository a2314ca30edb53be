"""Alerts operators act on (a transfer in transit too long, ...): list, resolve."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query

from api.deps import PrincipalDep, SessionDep, WmsWriterDep
from api.routing import api_router
from api.schemas.common import (
    Cursor,
    CursorId,
    Keyword,
    Limit,
    Page,
    RowId,
    decode_cursor,
    encode_cursor,
)
from api.schemas.transfers import AlertPublic, AlertResolveBody
from contracts.orders import order_number_of
from db.alerts import list_alerts, resolve_alert
from db.models import Alert
from domain.stock_alerts import scan_alert_place

router = api_router(prefix="/v1/alerts", tags=["alerts"])


def _public(alert: Alert) -> AlertPublic:
    place = scan_alert_place(alert.key)
    warehouse = alert.reference_id if alert.reference_type == "warehouse" else None
    workflow = alert.reference_id if alert.reference_type == "workflow" else None
    return AlertPublic(
        id=alert.id,
        kind=alert.kind,
        reference_type=alert.reference_type,
        reference_id=alert.reference_id,
        message=alert.message,
        created_at=alert.created_at,
        resolved_at=alert.resolved_at,
        resolution=alert.resolution,
        sku=place.sku if place else None,
        warehouse=place.warehouse if place else warehouse,
        lot=place.lot if place else None,
        order_number=order_number_of(workflow) if workflow else None,
    )


@router.get(
    "",
    response_model=Page[AlertPublic],
    summary="Alerts, newest first: open ones, resolved ones (status=resolved) or all",
)
async def get_alerts(
    principal: PrincipalDep,
    session: SessionDep,
    status: Literal["open", "resolved", "all"] = "open",
    kind: Keyword | None = None,
    cursor: Cursor | None = None,
    limit: Annotated[Limit, Query()] = 100,
) -> Page[AlertPublic]:
    rows = await list_alerts(
        session,
        principal.tenant_id,
        open_only=status == "open",
        resolved_only=status == "resolved",
        kind=kind,
        before=decode_cursor(cursor, CursorId),
        limit=limit,
    )
    next_cursor = encode_cursor(rows[-1].id) if len(rows) == limit else None
    return Page(items=[_public(a) for a in rows], next_cursor=next_cursor)


@router.post(
    "/{alert_id}/resolve",
    response_model=AlertPublic,
    summary="Resolve an alert with a note (409 if it is already resolved)",
)
async def resolve(
    alert_id: RowId, body: AlertResolveBody, principal: WmsWriterDep, session: SessionDep
) -> AlertPublic:
    return _public(await resolve_alert(session, principal.tenant_id, alert_id, body.resolution))
