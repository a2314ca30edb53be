"""Webhook endpoints and their deliveries (admin): subscribe a URL to events,
rotate its signing secret, see every delivery and its attempts, send again."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from api import webhooks_service as service
from api.deps import AdminDep, ResourcesDep, SessionDep
from api.routing import api_router
from api.schemas.common import Cursor, CursorId, Keyword, Limit, Page, RowId, decode_cursor
from api.schemas.webhooks import (
    DeliveryPublic,
    DeliveryStatus,
    EndpointCreate,
    EndpointPublic,
    EndpointUpdate,
    EndpointWithSecret,
    ReplayBody,
    ReplayResult,
)
from db import webhook_deliveries as deliveries
from db import webhooks as endpoints
from webhooks.signing import new_secret

router = api_router(prefix="/v1", tags=["webhooks"])


@router.post(
    "/webhook-endpoints",
    response_model=EndpointWithSecret,
    status_code=201,
    summary="Subscribe a URL to events (admin); the answer holds its signing secret",
    description="The secret is shown only here and on rotate-secret. Not replayed by "
    "Idempotency-Key: a retried call makes a second endpoint; delete the one you do "
    "not keep. An unsafe URL (422, `unsafe-url`, field `url`) or an unknown event type "
    "(422, field `event_types`) saves nothing.",
)
async def create_endpoint(
    body: EndpointCreate, principal: AdminDep, resources: ResourcesDep
) -> EndpointWithSecret:
    return await service.create_endpoint(resources, principal.tenant_id, body)


@router.get(
    "/webhook-endpoints",
    response_model=Page[EndpointPublic],
    summary="The tenant's webhook endpoints, newest first (admin)",
)
async def list_endpoints(
    principal: AdminDep,
    session: SessionDep,
    cursor: Cursor | None = None,
    limit: Annotated[Limit, Query()] = 100,
) -> Page[EndpointPublic]:
    rows = await endpoints.list_endpoints(
        session, principal.tenant_id, before=decode_cursor(cursor, CursorId), limit=limit
    )
    return service.page(rows, limit, service.endpoint_public)


@router.get(
    "/webhook-endpoints/{endpoint_id}",
    response_model=EndpointPublic,
    summary="A webhook endpoint (admin); never its secret",
)
async def get_endpoint(
    endpoint_id: RowId, principal: AdminDep, session: SessionDep
) -> EndpointPublic:
    endpoint = await endpoints.get_endpoint(session, principal.tenant_id, endpoint_id)
    return service.endpoint_public(endpoint)


@router.patch(
    "/webhook-endpoints/{endpoint_id}",
    response_model=EndpointPublic,
    summary="Change an endpoint's URL, event types, description or enabled (admin)",
    description="Enabling a disabled endpoint clears `disabled_reason` and sends its "
    "pending deliveries again.",
)
async def update_endpoint(
    endpoint_id: RowId, body: EndpointUpdate, principal: AdminDep, resources: ResourcesDep
) -> EndpointPublic:
    return await service.update_endpoint(resources, principal, endpoint_id, body)


@router.delete(
    "/webhook-endpoints/{endpoint_id}",
    status_code=204,
    response_class=Response,
    summary="Delete an endpoint with its deliveries and their attempts (admin)",
)
async def delete_endpoint(endpoint_id: RowId, principal: AdminDep, session: SessionDep) -> None:
    await endpoints.delete_endpoint(session, principal.tenant_id, endpoint_id)


@router.post(
    "/webhook-endpoints/{endpoint_id}/rotate-secret",
    response_model=EndpointWithSecret,
    summary="A new signing secret (admin); the old one also signs for 24 hours",
)
async def rotate_secret(
    endpoint_id: RowId, principal: AdminDep, session: SessionDep
) -> EndpointWithSecret:
    endpoint = await endpoints.rotate_secret(
        session, principal.tenant_id, endpoint_id, new_secret()
    )
    return service.with_secret(endpoint)


@router.post(
    "/webhook-endpoints/{endpoint_id}/replay",
    response_model=ReplayResult,
    summary="Send again the events of a time range the endpoint subscribes to (admin)",
    description="Published events that occurred in [`since`, `until`) and match the "
    "endpoint's event types, oldest first: a delivery is made for each it has none "
    "of, existing ones are sent again with a fresh retry schedule. At most 31 days "
    "and about 10,000 events per call (events written together are never split; "
    "`next_since` says where to go on). 409 while the endpoint is disabled.",
)
async def replay(
    endpoint_id: RowId, body: ReplayBody, principal: AdminDep, session: SessionDep
) -> ReplayResult:
    replayed = await deliveries.replay(
        session, principal.tenant_id, endpoint_id, since=body.since, until=body.until
    )
    return ReplayResult(
        created=replayed.created, requeued=replayed.requeued, next_since=replayed.next_since
    )


@router.get(
    "/webhook-deliveries",
    response_model=Page[DeliveryPublic],
    summary="Webhook deliveries with their attempts, newest first (admin)",
)
async def list_deliveries(
    principal: AdminDep,
    session: SessionDep,
    endpoint: RowId | None = None,
    status: DeliveryStatus | None = None,
    event: Annotated[Keyword | None, Query(description="an event id, evt_…")] = None,
    cursor: Cursor | None = None,
    limit: Annotated[Limit, Query()] = 100,
) -> Page[DeliveryPublic]:
    rows = await deliveries.list_deliveries(
        session,
        principal.tenant_id,
        deliveries.DeliveryFilter(endpoint_id=endpoint, status=status, event_id=event),
        before=decode_cursor(cursor, CursorId),
        limit=limit,
    )
    return service.page(rows, limit, service.delivery_public)


@router.get(
    "/webhook-deliveries/{delivery_id}",
    response_model=DeliveryPublic,
    summary="A webhook delivery with its attempts (admin)",
)
async def get_delivery(
    delivery_id: RowId, principal: AdminDep, session: SessionDep
) -> DeliveryPublic:
    view = await deliveries.get_delivery(session, principal.tenant_id, delivery_id)
    return service.delivery_public(view)


@router.post(
    "/webhook-deliveries/{delivery_id}/redeliver",
    response_model=DeliveryPublic,
    status_code=202,
    summary="Send a delivery again, now, with a fresh retry schedule (admin)",
    description="Whatever its status: it becomes `pending`, due now; the attempts made "
    "so far stay listed. 409 while its endpoint is disabled.",
)
async def redeliver(delivery_id: RowId, principal: AdminDep, session: SessionDep) -> DeliveryPublic:
    view = await deliveries.redeliver(session, principal.tenant_id, delivery_id)
    return service.delivery_public(view)
