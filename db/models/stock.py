"""Stock: balances per place, levels per warehouse (and lot), soft reservations,
hard allocations, the append-only movement ledger and idempotency records.

The CHECK constraints are the last line of the no-oversell rule (DESIGN §5.1);
the operations keep them true with conditional updates in a fixed lock order."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_column, id_column, tenant_column


class Balance(Base):
    """Stock of one item at one location, per lot and serial (both optional)."""

    __tablename__ = "balances"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand"),
        CheckConstraint("allocated >= 0 AND allocated <= on_hand", name="allocated"),
        CheckConstraint("serial_id IS NULL OR on_hand <= 1", name="one_per_serial"),
        Index(
            "uq_balances_place",
            "location_id",
            "item_id",
            text("coalesce(lot_id, 0)"),
            text("coalesce(serial_id, 0)"),
            unique=True,
        ),
        Index("ix_balances_item_warehouse", "item_id", "warehouse_id"),
    )

    id: Mapped[int] = id_column()
    tenant_id: Mapped[int] = tenant_column()
    warehouse_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("warehouses.id"))
    location_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("locations.id"))
    item_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("items.id"))
    lot_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("lots.id"))
    serial_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("serials.id"))
    on_hand: Mapped[int] = mapped_column(BigInteger, default=0)
    allocated: Mapped[int] = mapped_column(BigInteger, default=0)
    received_at: Mapped[datetime] = created_column()


class StockLevel(Base):
    """Per warehouse and item: on_hand (sum of balances), reserved, allocated,
    held (on hand in lots on hold or quarantine: never promised), in_transit (sent,
    not yet received elsewhere), incoming (expected here)."""

    __tablename__ = "stock_levels"
    __table_args__ = (
        PrimaryKeyConstraint("warehouse_id", "item_id"),
        CheckConstraint(
            "on_hand >= 0 AND reserved >= 0 AND allocated >= 0 "
            "AND in_transit >= 0 AND incoming >= 0 AND held >= 0",
            name="not_negative",
        ),
        CheckConstraint("reserved + allocated + held <= on_hand", name="no_oversell"),
        Index("ix_stock_levels_tenant_item", "tenant_id", "item_id"),
    )

    tenant_id: Mapped[int] = tenant_column()
    warehouse_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("warehouses.id"))
    item_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("items.id"))
    on_hand: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    allocated: Mapped[int] = mapped_column(BigInteger, default=0)
    in_transit: Mapped[int] = mapped_column(BigInteger, default=0)
    incoming: Mapped[int] = mapped_column(BigInteger, default=0)
    held: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class LotLevel(Base):
    """Per warehouse and lot: a reservation pinned to a lot counts against it."""

    __tablename__ = "lot_levels"
    __table_args__ = (
        PrimaryKeyConstraint("warehouse_id", "lot_id"),
        CheckConstraint("on_hand >= 0 AND reserved >= 0 AND allocated >= 0", name="not_negative"),
        CheckConstraint("reserved + allocated <= on_hand", name="no_oversell"),
        # the inventory scan pages a tenant's lot levels by this key
        Index("ix_lot_levels_tenant_lot", "tenant_id", "lot_id", "warehouse_id"),
    )

    tenant_id: Mapped[int] = tenant_column()
    warehouse_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("warehouses.id"))
    lot_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("lots.id"))
    item_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("items.id"))
    on_hand: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    allocated: Mapped[int] = mapped_column(BigInteger, default=0)


class Reservation(Base):
    """A soft promise of warehouse stock; `quantity` is what is still reserved."""

    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint("quantity >= 0 AND quantity <= requested", name="quantity"),
        CheckConstraint("status IN ('active', 'allocated', 'released', 'expired')", name="status"),
        Index(
            "ix_reservations_open",
            "warehouse_id",
            "item_id",
            postgresql_where=text("quantity > 0"),
        ),
        Index("ix_reservations_source", "tenant_id", "source_type", "source_id"),
    )

    id: Mapped[int] = id_column()
    tenant_id: Mapped[int] = tenant_column()
    warehouse_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("warehouses.id"))
    item_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("items.id"))
    lot_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("lots.id"))
    requested: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="active")
    source_type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str | None] = mapped_column(String(128))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_column()


class Allocation(Base):
    """Hard stock at one balance promised to a reference. Picking moves the
    quantity to a new allocation at the staging balance."""

    __tablename__ = "allocations"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity"),
        CheckConstraint("status IN ('allocated', 'picked', 'shipped', 'released')", name="status"),
        Index("ix_allocations_balance_open", "balance_id", postgresql_where=text("quantity > 0")),
        Index("ix_allocations_reservation", "reservation_id"),
        Index("ix_allocations_reference", "tenant_id", "reference_type", "reference_id"),
    )

    id: Mapped[int] = id_column()
    tenant_id: Mapped[int] = tenant_column()
    reservation_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("reservations.id"))
    balance_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("balances.id"))
    warehouse_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("warehouses.id"))
    item_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("items.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="allocated")
    reference_type: Mapped[str] = mapped_column(String(32))
    reference_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = created_column()


class Movement(Base):
    """The append-only ledger: every change of a balance's on_hand is one row."""

    __tablename__ = "movements"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint(
            "from_location_id IS NOT NULL OR to_location_id IS NOT NULL", name="has_place"
        ),
        UniqueConstraint("tenant_id", "idempotency_key", "seq"),
        Index("ix_movements_tenant_item", "tenant_id", "item_id", "id"),
        Index("ix_movements_tenant_reference", "tenant_id", "reference_type", "reference_id"),
        Index("ix_movements_from", "from_location_id", "item_id"),
        Index("ix_movements_to", "to_location_id", "item_id"),
    )

    id: Mapped[int] = id_column()
    tenant_id: Mapped[int] = tenant_column()
    type: Mapped[str] = mapped_column(String(24))
    warehouse_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("warehouses.id"))
    item_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("items.id"))
    lot_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("lots.id"))
    serial_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("serials.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    from_location_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("locations.id"))
    to_location_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("locations.id"))
    reference_type: Mapped[str] = mapped_column(String(32))
    reference_id: Mapped[str | None] = mapped_column(String(128))
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(String(500))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    seq: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IdempotencyRecord(Base):
    """The first result of a mutation, replayed for the same key and input."""

    __tablename__ = "idempotency_records"
    __table_args__ = (PrimaryKeyConstraint("tenant_id", "key"),)

    tenant_id: Mapped[int] = tenant_column()
    key: Mapped[str] = mapped_column(String(200))
    operation: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_column()
