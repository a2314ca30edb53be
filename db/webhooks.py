"""A tenant's webhook endpoints: saved, changed, disabled and enabled, their
signing secrets rotated. Every query names the tenant: another tenant's endpoint
does not exist here.

Secrets: `secret` signs every delivery; after a rotation the old one is kept as
`previous_secret` and signs too until `previous_secret_expires_at` (a day), so a
receiver can switch without missing a delivery (`live_secrets`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.events import NOTIFY_CHANNEL
from db.models import WebhookEndpoint
from domain.errors import NotFound

# How long the secret replaced by a rotation keeps signing alongside the new one.
ROTATION_OVERLAP = timedelta(hours=24)


def endpoint_workflow_id(endpoint_id: int) -> str:
    """The id of the endpoint's delivery workflow (one per endpoint)."""
    return f"webhook-endpoint-{endpoint_id}"


def live_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign a delivery made at `now`: the current one, and the one
    it replaced while the rotation's overlap lasts."""
    secrets = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and now < expires:
        secrets.append(endpoint.previous_secret)
    return secrets


@dataclass(frozen=True, kw_only=True)
class NewEndpoint:
    tenant_id: int
    url: str
    event_types: list[str]  # checked patterns (domain.events.check_patterns)
    description: str | None
    enabled: bool
    secret: str
    disabled_reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class EndpointChanges:
    """What a PATCH changes; a field absent from `fields` is left as it is."""

    fields: frozenset[str]
    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None


async def add_endpoint(session: AsyncSession, new: NewEndpoint) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        tenant_id=new.tenant_id,
        url=new.url,
        event_types=new.event_types,
        description=new.description,
        enabled=new.enabled,
        disabled_reason=new.disabled_reason,
        secret=new.secret,
    )
    session.add(endpoint)
    await session.flush()
    await session.refresh(endpoint)
    return endpoint


async def list_endpoints(
    session: AsyncSession, tenant_id: int, *, before: int | None, limit: int
) -> Sequence[WebhookEndpoint]:
    """A tenant's endpoints, newest first."""
    query = select(WebhookEndpoint).where(WebhookEndpoint.tenant_id == tenant_id)
    if before is not None:
        query = query.where(WebhookEndpoint.id < before)
    return (await session.scalars(query.order_by(WebhookEndpoint.id.desc()).limit(limit))).all()


async def get_endpoint(
    session: AsyncSession, tenant_id: int, endpoint_id: int, *, lock: bool = False
) -> WebhookEndpoint:
    """The tenant's endpoint (NotFound otherwise), locked for the transaction with `lock`."""
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.tenant_id == tenant_id, WebhookEndpoint.id == endpoint_id
    )
    endpoint = await session.scalar(query.with_for_update() if lock else query)
    if endpoint is None:
        raise NotFound(f"webhook endpoint {endpoint_id} does not exist", field="id")
    return endpoint


async def change_endpoint(
    session: AsyncSession,
    tenant_id: int,
    endpoint_id: int,
    changes: EndpointChanges,
    *,
    actor: str,
) -> WebhookEndpoint:
    """Apply a PATCH. Disabling records who did it; enabling a disabled endpoint
    clears the reason and queues its pending deliveries again."""
    endpoint = await get_endpoint(session, tenant_id, endpoint_id, lock=True)
    was_enabled = endpoint.enabled
    for name in ("url", "event_types", "description", "enabled"):
        if name in changes.fields:
            setattr(endpoint, name, getattr(changes, name))
    if was_enabled and not endpoint.enabled:
        endpoint.disabled_reason = f"disabled by {actor}"
    elif endpoint.enabled and not was_enabled:
        endpoint.disabled_reason = None
        await requeue_pending(session, endpoint_id)
    endpoint.updated_at = await _now(session)
    await session.flush()
    return endpoint


async def delete_endpoint(session: AsyncSession, tenant_id: int, endpoint_id: int) -> None:
    """The endpoint goes with its deliveries and their attempts."""
    endpoint = await get_endpoint(session, tenant_id, endpoint_id, lock=True)
    await session.delete(endpoint)
    await session.flush()


async def rotate_secret(
    session: AsyncSession, tenant_id: int, endpoint_id: int, new_secret: str
) -> WebhookEndpoint:
    """`new_secret` signs from now on; the replaced one keeps signing for the
    overlap. A second rotation within the overlap drops the oldest secret."""
    endpoint = await get_endpoint(session, tenant_id, endpoint_id, lock=True)
    now = await _now(session)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
    endpoint.secret = new_secret
    endpoint.updated_at = now
    await session.flush()
    return endpoint


async def requeue_pending(session: AsyncSession, endpoint_id: int) -> int:
    """The endpoint's pending deliveries wait for its workflow to be woken again
    (the relay hears the NOTIFY at commit); how many."""
    requeued = await session.scalars(
        text(
            "UPDATE webhook_deliveries SET dispatched = false"
            " WHERE endpoint_id = :e AND status = 'pending' RETURNING id"
        ),
        {"e": endpoint_id},
    )
    count = len(requeued.all())
    await notify_relay(session)
    return count


async def notify_relay(session: AsyncSession) -> None:
    """Tell the relay, at commit, that deliveries wait to be dispatched."""
    await session.execute(text("SELECT pg_notify(:c, '')"), {"c": NOTIFY_CHANNEL})


async def _now(session: AsyncSession) -> datetime:
    now: datetime | None = await session.scalar(select(func.now()))
    assert now is not None
    return now
