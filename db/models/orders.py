"""The order projection: what the order workflows write for lists, backorder wake-up
and the WMS's view of fulfillment requests. The workflow is the source of truth;
these rows follow it (written by activities, newest version wins)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_column, id_column, tenant_column


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "order_number"),
        Index("ix_orders_tenant_status", "tenant_id", "status", "id"),
        Index("ix_orders_tenant_customer", "tenant_id", "customer_id", "id"),
    )

    id: Mapped[int] = id_column()
    tenant_id: Mapped[int] = tenant_column()
    order_number: Mapped[str] = mapped_column(String(64))
    workflow_id: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[str] = mapped_column(String(128))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(24))
    fulfillment_policy: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer)
    allow_split: Mapped[bool] = mapped_column(Boolean)
    preferred_warehouse: Mapped[str | None] = mapped_column(String(32))
    payment_status: Mapped[str] = mapped_column(String(16))
    # When the shop wants it to leave (the WMS queue sorts by it); from the view.
    requested_ship_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=0)
    view: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (
        PrimaryKeyConstraint("order_id", "line_id"),
        # Backorder wake-up: waiting lines of an item, by order priority and age.
        Index("ix_order_lines_waiting", "item_id", postgresql_where=text("backordered > 0")),
    )

    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("orders.id"))
    line_id: Mapped[str] = mapped_column(String(64))
    tenant_id: Mapped[int] = tenant_column()
    item_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("items.id"))
    ordered: Mapped[int] = mapped_column(BigInteger)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    backordered: Mapped[int] = mapped_column(BigInteger, default=0)
    shipped: Mapped[int] = mapped_column(BigInteger, default=0)
    canceled: Mapped[int] = mapped_column(BigInteger, default=0)
    returned: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class FulfillmentRequestRow(Base):
    __tablename__ = "fulfillment_requests"
    __table_args__ = (Index("ix_fulfillment_requests_queue", "tenant_id", "warehouse", "status"),)

    # Ids are made of order numbers, unique within a tenant only.
    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("orders.id"))
    workflow_id: Mapped[str] = mapped_column(String(200))
    warehouse: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    view: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_column()
