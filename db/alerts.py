"""Alerts operators act on: raised once per key, listed, resolved with a note."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.events import record_events
from db.models import Alert
from domain.errors import NotFound
from domain.events import EventType, NewEvent
from domain.stock import InvalidTransition


@dataclass(frozen=True, kw_only=True)
class NewAlert:
    tenant_id: int
    key: str  # one alert per key, however often it is raised
    kind: str
    reference_type: str
    reference_id: str
    message: str


async def raise_alert(
    sessions: async_sessionmaker[AsyncSession], alert: NewAlert, *, reopen: bool = False
) -> int:
    """The alert's id; a second raise of the same key changes nothing, except that
    with `reopen` a resolved alert opens again (the condition came back)."""
    async with sessions() as session, session.begin():
        return await raise_alert_in(session, alert, reopen=reopen)


async def raise_alert_in(session: AsyncSession, alert: NewAlert, *, reopen: bool = False) -> int:
    """`raise_alert` in the caller's transaction (with the change that raises it)."""
    await raise_alerts_in(session, [alert], reopen=reopen)
    alert_id = await session.scalar(
        select(Alert.id).where(Alert.tenant_id == alert.tenant_id, Alert.key == alert.key)
    )
    assert alert_id is not None
    return int(alert_id)


async def raise_alerts_in(
    session: AsyncSession, alerts: list[NewAlert], *, reopen: bool = False
) -> int:
    """Raise many alerts in one statement (keys distinct), with their events; how many
    were new or opened again."""
    if not alerts:
        return 0
    statement = insert(Alert).values(
        [
            {
                "tenant_id": alert.tenant_id,
                "key": alert.key,
                "kind": alert.kind,
                "reference_type": alert.reference_type,
                "reference_id": alert.reference_id,
                "message": alert.message,
            }
            for alert in alerts
        ]
    )
    unique = [Alert.tenant_id, Alert.key]
    if reopen:
        statement = statement.on_conflict_do_update(
            index_elements=unique,
            set_={"resolved_at": None, "resolution": None, "message": statement.excluded.message},
            where=Alert.resolved_at.is_not(None),
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=unique)
    raised = (await session.scalars(statement.returning(Alert))).all()
    # new alerts, or resolved ones open again
    events = [alert_event(EventType.ALERT_RAISED, a) for a in sorted(raised, key=lambda a: a.id)]
    await record_events(session, events)
    return len(raised)


def alert_event(type: EventType, alert: Alert) -> NewEvent:
    """An alert's event, carrying the alert as it is now."""
    data = {
        "id": alert.id,
        "kind": alert.kind,
        "reference_type": alert.reference_type,
        "reference_id": alert.reference_id,
        "message": alert.message,
        "created_at": alert.created_at.isoformat(),
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
        "resolution": alert.resolution,
    }
    return NewEvent(tenant_id=alert.tenant_id, type=type, subject_id=str(alert.id), data=data)


async def resolve_alerts(
    sessions: async_sessionmaker[AsyncSession], tenant_id: int, keys: list[str], resolution: str
) -> int:
    """Resolve the open alerts of these keys (the condition is gone); how many."""
    if not keys:
        return 0
    async with sessions() as session, session.begin():
        return await resolve_alerts_in(session, tenant_id, keys, resolution)


async def resolve_alerts_in(
    session: AsyncSession, tenant_id: int, keys: list[str], resolution: str
) -> int:
    """`resolve_alerts` in the caller's transaction."""
    resolved = (
        await session.scalars(
            update(Alert)
            .where(
                Alert.tenant_id == tenant_id,
                Alert.key.in_(keys),
                Alert.resolved_at.is_(None),
            )
            .values(resolved_at=func.now(), resolution=resolution)
            .returning(Alert)
            .execution_options(synchronize_session=False)
        )
    ).all()
    await record_events(
        session,
        [alert_event(EventType.ALERT_RESOLVED, a) for a in sorted(resolved, key=lambda a: a.id)],
    )
    return len(resolved)


async def list_alerts(
    session: AsyncSession,
    tenant_id: int,
    *,
    open_only: bool,
    kind: str | None,
    before: int | None,
    limit: int,
    resolved_only: bool = False,
) -> list[Alert]:
    """A tenant's alerts, newest first."""
    query = select(Alert).where(Alert.tenant_id == tenant_id)
    if open_only:
        query = query.where(Alert.resolved_at.is_(None))
    if resolved_only:
        query = query.where(Alert.resolved_at.is_not(None))
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
    await record_events(session, [alert_event(EventType.ALERT_RESOLVED, alert)])
    return alert


# -- setup: what a warehouse lacks to fulfil orders ------------------------------------

SETUP_KIND = "setup"
STAGING_ALERT_PREFIX = f"{SETUP_KIND}:staging:"  # then the warehouse's code


def staging_alert_key(warehouse: str) -> str:
    return f"{STAGING_ALERT_PREFIX}{warehouse}"


def staging_alert(tenant_id: int, warehouse: str) -> NewAlert:
    """The `setup` alert of a warehouse that has no active staging location."""
    return NewAlert(
        tenant_id=tenant_id,
        key=staging_alert_key(warehouse),
        kind=SETUP_KIND,
        reference_type="warehouse",
        reference_id=warehouse,
        message=f"warehouse {warehouse} has no active staging location: orders cannot be "
        "fulfilled there until it has one (create a location of type staging)",
    )


async def staging_alerts(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: int,
    staging: dict[str, str],
    unstaged: list[str],
    alerted: set[str],
) -> None:
    """A `setup` alert for each warehouse that cannot stage picked goods (raised
    again if it was resolved and the lack came back); resolved for each warehouse
    that can (`staging`: warehouse code -> its staging location). `alerted` names
    the warehouses whose alert was open when they were read: only a change is
    written (the statements' own conditions still guard against a concurrent one)."""
    for warehouse in unstaged:
        if warehouse not in alerted:
            await raise_alert(sessions, staging_alert(tenant_id, warehouse), reopen=True)
    fixed = sorted(w for w in staging if w in alerted)
    if fixed:
        await resolve_alerts(
            sessions,
            tenant_id,
            [staging_alert_key(w) for w in fixed],
            "a staging location exists now",
        )
