"""Events out: the outbox of business events and the webhook endpoints and deliveries
that carry them to shops and warehouses.

An event row is written in the transaction of the change that causes it; the relay
(`db/events.publish_pending`) gives it its place in the tenant's feed (`position`) and
one delivery per subscribed endpoint; each endpoint's delivery workflow sends them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_column, id_column, tenant_column


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "subject_type", "subject_id", "sequence"),
        UniqueConstraint("event_id"),
        UniqueConstraint("position"),
        # the relay's work: events not yet in the feed
        Index("ix_events_unpublished", "id", postgresql_where=text("position IS NULL")),
        Index("ix_events_feed", "tenant_id", "position"),
    )

    id: Mapped[int] = id_column()  # drawn after the subject's sequence: per subject, in order
    event_id: Mapped[str] = mapped_column(String(40))  # evt_…: the webhook-id of every delivery
    tenant_id: Mapped[int] = tenant_column()
    type: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(SmallInteger)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(200))
    sequence: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # the tenant's feed order, given by the relay to committed events only
    position: Mapped[int | None] = mapped_column(BigInteger)


class EventSubject(Base):
    """The last sequence number given to an event of one subject."""

    __tablename__ = "event_subjects"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "subject_type", "subject_id"),)

    tenant_id: Mapped[int] = tenant_column()
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(200))
    last_sequence: Mapped[int] = mapped_column(BigInteger)


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index("ix_webhook_endpoints_tenant", "tenant_id", "id"),)

    id: Mapped[int] = id_column()
    tenant_id: Mapped[int] = tenant_column()
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(500))
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    enabled: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))  # whsec_…
    # after a rotation the old secret signs alongside the new one until it expires
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = created_column()


class WebhookDelivery(Base):
    """One event to one endpoint: pending until the receiver answers 2xx (delivered)
    or the retry schedule is exhausted (failed)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status"),
        # the head of each subject's lane: its lowest pending sequence
        Index(
            "ix_webhook_deliveries_lanes",
            "endpoint_id",
            "subject_key",
            "sequence",
            postgresql_where=text("status = 'pending'"),
        ),
        # the relay's work: endpoints whose workflow has not been woken for a delivery
        Index(
            "ix_webhook_deliveries_undispatched",
            "endpoint_id",
            postgresql_where=text("status = 'pending' AND NOT dispatched"),
        ),
        Index("ix_webhook_deliveries_tenant", "tenant_id", "id"),
    )

    id: Mapped[int] = id_column()
    tenant_id: Mapped[int] = tenant_column()
    endpoint_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("webhook_endpoints.id", ondelete="CASCADE")
    )
    event_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("events.id"))
    subject_key: Mapped[str] = mapped_column(String(240))  # "<subject type>:<subject id>"
    sequence: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), server_default=text("'pending'"))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the endpoint's workflow was woken since this delivery became pending
    dispatched: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    last_latency_ms: Mapped[int | None] = mapped_column(Integer)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_column()


class WebhookAttempt(Base):
    """One HTTP attempt of a delivery, as the receiver answered it."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id", "id"),)

    id: Mapped[int] = id_column()
    delivery_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("webhook_deliveries.id", ondelete="CASCADE")
    )
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(Integer)  # None: no answer
    error: Mapped[str | None] = mapped_column(String(500))
    latency_ms: Mapped[int] = mapped_column(Integer)
