"""Between the webhook routes and the database: check an endpoint's URL (the SSRF
guard) and event filter before anything is saved, make its secrets, shape rows
as the API shows them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from api.problems import Problem
from api.resources import Resources
from api.schemas.common import Page, encode_cursor
from api.schemas.webhooks import (
    AttemptPublic,
    DeliveryPublic,
    EndpointCreate,
    EndpointPublic,
    EndpointUpdate,
    EndpointWithSecret,
)
from db import webhooks as db
from db.models import WebhookEndpoint
from db.tenants import Principal
from db.webhook_deliveries import DeliveryView
from domain.errors import InvalidInput
from domain.events import check_patterns
from settings import Settings
from webhooks.guard import UnsafeUrl, check_host, check_url
from webhooks.signing import new_secret


async def checked_url(url: str, settings: Settings) -> str:
    """`url` when it may receive webhooks: its form always, and unless private
    addresses are allowed, what its host resolves to now. A name that does not
    resolve is refused too: there is nowhere to deliver (each attempt checks again,
    so a name that later resolves inward is refused then)."""
    allow_private = settings.webhooks_allow_private_urls
    try:
        check_url(url, allow_private=allow_private)
        await check_host(url, allow_private=allow_private)
    except UnsafeUrl as error:
        raise Problem(422, "unsafe-url", f"url {error}", field="url") from None
    return url


def checked_patterns(patterns: Sequence[str]) -> list[str]:
    try:
        return check_patterns(patterns)
    except ValueError as error:
        raise InvalidInput(f"event_types: {error}", field="event_types") from None


async def create_endpoint(
    resources: Resources, tenant_id: int, body: EndpointCreate
) -> EndpointWithSecret:
    patterns = checked_patterns(body.event_types)
    url = await checked_url(body.url, resources.settings)  # before a connection is taken
    new = db.NewEndpoint(
        tenant_id=tenant_id,
        url=url,
        event_types=patterns,
        description=body.description,
        enabled=body.enabled,
        disabled_reason=None if body.enabled else "created disabled",
        secret=new_secret(),
    )
    async with resources.sessions() as session, session.begin():
        return with_secret(await db.add_endpoint(session, new))


async def update_endpoint(
    resources: Resources, principal: Principal, endpoint_id: int, body: EndpointUpdate
) -> EndpointPublic:
    fields = body.model_fields_set
    for name in ("url", "event_types", "enabled"):
        if name in fields and getattr(body, name) is None:
            raise InvalidInput(f"{name} cannot be null", field=name)
    changes = db.EndpointChanges(
        fields=frozenset(fields),
        url=await checked_url(body.url, resources.settings) if body.url is not None else None,
        event_types=checked_patterns(body.event_types) if body.event_types is not None else None,
        description=body.description,
        enabled=body.enabled,
    )
    async with resources.sessions() as session, session.begin():
        endpoint = await db.change_endpoint(
            session, principal.tenant_id, endpoint_id, changes, actor=principal.actor
        )
        return endpoint_public(endpoint)


class _Row(Protocol):
    @property
    def id(self) -> int: ...


R = TypeVar("R", bound=_Row)
P = TypeVar("P")


def page(rows: Sequence[R], limit: int, public: Callable[[R], P]) -> Page[P]:
    """A page of a newest-first list: a cursor after its last row when it is full."""
    next_cursor = encode_cursor(rows[-1].id) if len(rows) == limit else None
    return Page(items=[public(row) for row in rows], next_cursor=next_cursor)


def endpoint_public(endpoint: WebhookEndpoint) -> EndpointPublic:
    return EndpointPublic(**_endpoint_fields(endpoint))


def with_secret(endpoint: WebhookEndpoint) -> EndpointWithSecret:
    return EndpointWithSecret(**_endpoint_fields(endpoint), secret=endpoint.secret)


def _endpoint_fields(endpoint: WebhookEndpoint) -> dict[str, object]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "event_types": list(endpoint.event_types),
        "description": endpoint.description,
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "previous_secret_expires_at": endpoint.previous_secret_expires_at,
        "workflow_id": db.endpoint_workflow_id(endpoint.id),
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
    }


def delivery_public(view: DeliveryView) -> DeliveryPublic:
    return DeliveryPublic(
        id=view.id,
        endpoint=view.endpoint_id,
        event_id=view.event_id,
        event_type=view.event_type,
        subject={"type": view.subject_type, "id": view.subject_id},
        sequence=view.sequence,
        status=view.status,
        attempt_count=view.attempt_count,
        attempts=[
            AttemptPublic(
                attempted_at=a.attempted_at,
                status_code=a.status_code,
                error=a.error,
                latency_ms=a.latency_ms,
            )
            for a in view.attempts
        ],
        last_status=view.last_status_code,
        last_error=view.last_error,
        latency_ms=view.last_latency_ms,
        last_attempt_at=view.last_attempt_at,
        next_attempt_at=view.next_attempt_at,
        delivered_at=view.delivered_at,
        created_at=view.created_at,
    )
