"""Replenishment and stock control: item barcodes and suppliers, purchase orders
(their open lines are part of a stock level's `incoming`) and recalls."""

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
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_column, id_column, tenant_column


class ItemBarcode(Base):
    """A GTIN/EAN/UPC of an item: unique within a tenant, so a scan finds one item."""

    __tablename__ = "item_barcodes"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "barcode"),
        Index("ix_item_barcodes_item", "item_id"),
    )

    tenant_id: Mapped[int] = tenant_column()
    barcode: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("items.id"))


class ItemSupplier(Base):
    """Who an item can be bought from, with that supplier's lead time (and purchase
    multiple, in base units, when it differs from the item's)."""

    __tablename__ = "item_suppliers"
    __table_args__ = (
        PrimaryKeyConstraint("item_id", "supplier"),
        CheckConstraint("lead_time_days >= 0", name="lead_time"),
        CheckConstraint(
            "purchase_multiple IS NULL OR purchase_multiple >= 1", name="purchase_multiple"
        ),
    )

    tenant_id: Mapped[int] = tenant_column()
    item_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("items.id"))
    supplier: Mapped[str] = mapped_column(String(128))
    lead_time_days: Mapped[int] = mapped_column(Integer)
    purchase_multiple: Mapped[int | None] = mapped_column(BigInteger)


class PurchaseOrder(Base):
    """A purchase order; its workflow (`po-<tenant>-<po_number>`) is the process, this
    row and its lines are the books it keeps (written by its activities)."""

    __tablename__ = "purchase_orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "po_number"),
        CheckConstraint("status IN ('open', 'received', 'closed', 'canceled')", name="status"),
        Index(
            "ix_purchase_orders_open", "tenant_id", "id", postgresql_where=text("status = 'open'")
        ),
    )

    id: Mapped[int] = id_column()
    tenant_id: Mapped[int] = tenant_column()
    po_number: Mapped[str] = mapped_column(String(64))
    supplier: Mapped[str] = mapped_column(String(128))
    warehouse_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("warehouses.id"))
    status: Mapped[str] = mapped_column(String(16), default="open")
    workflow_id: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(500))  # why canceled / closed short
    created_at: Mapped[datetime] = created_column()
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PurchaseOrderLine(Base):
    """What a PO line still brings: `ordered - received` while the PO is open (never
    below zero: an over-receipt within tolerance brings nothing more). The sum over
    open lines is the PO part of a stock level's `incoming`."""

    __tablename__ = "purchase_order_lines"
    __table_args__ = (
        PrimaryKeyConstraint("purchase_order_id", "line_no"),
        CheckConstraint("ordered > 0 AND received >= 0", name="quantities"),
        Index("ix_purchase_order_lines_item", "item_id", "expected_at"),
    )

    purchase_order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("purchase_orders.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    tenant_id: Mapped[int] = tenant_column()
    item_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("items.id"))
    ordered: Mapped[int] = mapped_column(BigInteger)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    expected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Recall(Base):
    """A recall of lots of one item; its workflow holds them and pulls them from open
    allocations; the report (every shipment that carried them) is kept here."""

    __tablename__ = "recalls"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'completed')", name="status"),
        UniqueConstraint("tenant_id", "idempotency_key"),
    )

    id: Mapped[int] = id_column()
    tenant_id: Mapped[int] = tenant_column()
    item_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("items.id"))
    lots: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="running")
    workflow_id: Mapped[str] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(128))
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_column()
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
