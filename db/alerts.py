"""Alerts operators act on: raised once per key, listed, resolved with a note."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Alert
from domain.errors import NotFound
from domain.stock import InvalidTransition


@dataclass(frozen=True)
class NewAlert:
    tenant_id: int
    key: str  # one alert per key, however often it is raised
    kind: str
    reference_type: str
    reference_id: str
    message: str


async def raise_alert(sessions: async_sessionmaker[AsyncSession], alert: NewAlert) -> int:
    """The alert's id; a second raise of the same key changes nothing."""
    async with sessions() as session, session.begin():
        await session.execute(
            insert(Alert)
            .values(
                tenant_id=alert.tenant_id,
                key=alert.key,
                kind=alert.kind,
                reference_type=alert.reference_type,
                reference_id=alert.reference_id,
                message=alert.message,
            )
            .on_conflict_do_nothing(index_elements=[Alert.tenant_id, Alert.key])
        )
        alert_id = await session.scalar(
            select(Alert.id).where(Alert.tenant_id == alert.tenant_id, Alert.key == alert.key)
        )
    assert alert_id is not None
    return int(alert_id)


async def list_alerts(
    session: AsyncSession,
    tenant_id: int,
    *,
    open_only: bool,
    kind: str | None,
    before: int | None,
    limit: int,
) -> list[Alert]:
    """A tenant's alerts, newest first."""
    query = select(Alert).where(Alert.tenant_id == tenant_id)
    if open_only:
        query = query.where(Alert.resolved_at.is_(None))
    if kind is not None:
        query = query.where(Alert.kind == kind)
    if before is not None:
        query = query.where(Alert.id < before)
    return list(await session.scalars(query.order_by(Alert.id.desc()).limit(limit)))


async def resolve_alert(
    session: AsyncSession, tenant_id: int, alert_id: int, resolution: str
) -> Alert:
    alert = await session.scalar(
        select(Alert).where(Alert.tenant_id == tenant_id, Alert.id == alert_id).with_for_update()
    )
    if alert is None:
        raise NotFound(f"alert {alert_id} does not exist", field="id")
    if alert.resolved_at is not None:
        raise InvalidTransition(f"alert {alert_id} was resolved on {alert.resolved_at}")
    now: datetime | None = await session.scalar(text("SELECT now()"))
    alert.resolved_at = now
    alert.resolution = resolution
    await session.flush()
    return alert
