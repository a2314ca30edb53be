"""Places and things: warehouses, locations, items, lots and serials."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_column, id_column, tenant_column


class Warehouse(Base):
    __tablename__ = "warehouses"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = id_column()
    tenant_id: Mapped[int] = tenant_column()
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    priority: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # where goods are shipped from and POs delivered to (the order's ship_to shape)
    address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_column()


class Location(Base):
    __tablename__ = "locations"
    __table_args__ = (
        UniqueConstraint("warehouse_id", "code"),
        CheckConstraint(
            "type IN ('zone', 'aisle', 'rack', 'bin', 'slot', 'dock', 'staging')", name="type"
        ),
    )

    id: Mapped[int] = id_column()
    tenant_id: Mapped[int] = tenant_column()
    warehouse_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("warehouses.id"))
    code: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("locations.id"), index=True
    )
    pickable: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = created_column()


class Item(Base):
    """An SKU. Quantities are stored in base units (integers)."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("tenant_id", "sku"),
        CheckConstraint("base_units_per_unit >= 1", name="base_units"),
        CheckConstraint("min_increment_base >= 1", name="min_increment"),
        CheckConstraint("min_cut_base >= 0", name="min_cut"),
        CheckConstraint("rounding IN ('up', 'down', 'nearest')", name="rounding"),
        CheckConstraint("default_strategy IN ('fifo', 'lifo', 'fefo')", name="strategy"),
        CheckConstraint(
            "backorder_policy IN ('deny', 'allow', 'allow_until')", name="backorder_policy"
        ),
        CheckConstraint(
            "backorder_policy <> 'allow_until' OR backorder_limit IS NOT NULL",
            name="backorder_limit",
        ),
        CheckConstraint("purchase_multiple >= 1", name="purchase_multiple"),
        CheckConstraint("lead_time_days IS NULL OR lead_time_days >= 0", name="lead_time"),
        CheckConstraint("max_stock IS NULL OR max_stock >= 0", name="max_stock"),
        CheckConstraint(
            "expiry_warning_days IS NULL OR expiry_warning_days >= 0", name="expiry_warning"
        ),
    )

    id: Mapped[int] = id_column()
    tenant_id: Mapped[int] = tenant_column()
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    uom_unit: Mapped[str] = mapped_column(String(16))
    base_units_per_unit: Mapped[int] = mapped_column(Integer)
    min_increment_base: Mapped[int] = mapped_column(BigInteger)
    min_cut_base: Mapped[int] = mapped_column(BigInteger)
    rounding: Mapped[str] = mapped_column(String(8))
    track_lot: Mapped[bool] = mapped_column(Boolean, default=False)
    track_serial: Mapped[bool] = mapped_column(Boolean, default=False)
    track_expiry: Mapped[bool] = mapped_column(Boolean, default=False)
    # returned goods go into a quarantine lot until inspected
    requires_inspection: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    default_strategy: Mapped[str] = mapped_column(String(8))
    reorder_point: Mapped[int] = mapped_column(BigInteger, default=0)
    safety_stock: Mapped[int] = mapped_column(BigInteger, default=0)
    low_stock_threshold: Mapped[int] = mapped_column(BigInteger, default=0)
    backorder_policy: Mapped[str] = mapped_column(String(16))
    backorder_limit: Mapped[int | None] = mapped_column(BigInteger)
    # replenishment: days from ordering to arrival (None: settings' default), the
    # multiple a purchase is rounded up to and the max of a min/max rule (base units),
    # days before a lot's expiry it is reported `expiring` (None: settings' default)
    lead_time_days: Mapped[int | None] = mapped_column(Integer)
    purchase_multiple: Mapped[int] = mapped_column(BigInteger, default=1, server_default="1")
    max_stock: Mapped[int | None] = mapped_column(BigInteger)
    expiry_warning_days: Mapped[int | None] = mapped_column(Integer)
    default_supplier: Mapped[str | None] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = created_column()


class Lot(Base):
    __tablename__ = "lots"
    __table_args__ = (
        UniqueConstraint("item_id", "lot_number"),
        CheckConstraint("status IN ('available', 'hold', 'quarantine', 'expired')", name="status"),
        Index(
            "ix_lots_expiring",
            "expires_on",
            "id",
            postgresql_where=text("status = 'available' AND expires_on IS NOT NULL"),
        ),
    )

    id: Mapped[int] = id_column()
    tenant_id: Mapped[int] = tenant_column()
    item_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("items.id"))
    lot_number: Mapped[str] = mapped_column(String(64))
    manufactured_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="available")
    status_changed_by: Mapped[str | None] = mapped_column(String(128))  # an actor
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_reason: Mapped[str | None] = mapped_column(String(500))  # why held / quarantined


class Serial(Base):
    __tablename__ = "serials"
    __table_args__ = (UniqueConstraint("item_id", "serial_number"),)

    id: Mapped[int] = id_column()
    tenant_id: Mapped[int] = tenant_column()
    item_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("items.id"))
    lot_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("lots.id"))
    serial_number: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
