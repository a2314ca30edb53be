"""Returns (RMAs), stock transfers and alerts.

The workflows are the source of truth for a return's or a transfer's progress; these
rows are what the database must know itself: how much of each order line is
claimed by returns (so two requests at once cannot return more than was shipped),
what each transfer has in flight (so `in_transit`/`incoming` can be reconciled and a
receipt can never exceed what was shipped), and the alerts operators act on."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
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


class Return(Base):
    __tablename__ = "returns"
    __table_args__ = (
        UniqueConstraint("tenant_id", "rma_number"),
        Index("ix_returns_tenant_status", "tenant_id", "status", "id"),
        Index("ix_returns_order", "order_id"),
    )

    id: Mapped[int] = id_column()
    tenant_id: Mapped[int] = tenant_column()
    rma_number: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("orders.id"))
    workflow_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    request_hash: Mapped[str] = mapped_column(String(64))
    refund_amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    refund_reason: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, default=0)
    view: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ReturnLine(Base):
    """One order line on a return. `claimed` is what the return holds against the
    order line's shipped quantity: requested while open, received once received,
    nothing once rejected or expired."""

    __tablename__ = "return_lines"
    __table_args__ = (
        PrimaryKeyConstraint("return_id", "line_id"),
        Index("ix_return_lines_order_line", "order_id", "line_id"),
        CheckConstraint("requested > 0", name="requested_positive"),
        CheckConstraint(
            "claimed >= 0 AND received >= 0 AND accepted >= 0 AND accepted <= received "
            "AND received <= requested AND claimed <= requested",
            name="quantities",
        ),
    )

    return_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("returns.id"))
    line_id: Mapped[str] = mapped_column(String(64))
    tenant_id: Mapped[int] = tenant_column()
    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("orders.id"))
    item_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("items.id"))
    requested: Mapped[int] = mapped_column(BigInteger)
    claimed: Mapped[int] = mapped_column(BigInteger)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    accepted: Mapped[int] = mapped_column(BigInteger, default=0)
    disposition: Mapped[str | None] = mapped_column(String(16))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(18, 6))


class Transfer(Base):
    __tablename__ = "transfers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "transfer_number"),
        Index("ix_transfers_tenant_status", "tenant_id", "status", "id"),
    )

    id: Mapped[int] = id_column()
    tenant_id: Mapped[int] = tenant_column()
    transfer_number: Mapped[str] = mapped_column(String(64))
    workflow_id: Mapped[str] = mapped_column(String(200))
    from_warehouse_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("warehouses.id"))
    to_warehouse_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("warehouses.id"))
    status: Mapped[str] = mapped_column(String(24))  # partially_received
    version: Mapped[int] = mapped_column(Integer, default=0)
    view: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = created_column()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TransferStock(Base):
    """What a transfer has in flight per item and lot. The sum over a warehouse's
    transfers of shipped - received - written_off is its `in_transit` (as source) and
    `incoming` (as destination); the CHECK makes receiving more than shipped
    impossible even for two receipts at once."""

    __tablename__ = "transfer_stock"
    __table_args__ = (
        Index(
            "uq_transfer_stock_item_lot",
            "transfer_id",
            "item_id",
            text("coalesce(lot_id, 0)"),
            unique=True,
        ),
        CheckConstraint(
            "shipped >= 0 AND received >= 0 AND written_off >= 0 "
            "AND received + written_off <= shipped",
            name="quantities",
        ),
    )

    id: Mapped[int] = id_column()
    tenant_id: Mapped[int] = tenant_column()
    transfer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("transfers.id"))
    item_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("items.id"))
    lot_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("lots.id"))
    shipped: Mapped[int] = mapped_column(BigInteger, default=0)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    written_off: Mapped[int] = mapped_column(BigInteger, default=0)


class TransferSerial(Base):
    """Each serial a transfer shipped: in transit until received or written off."""

    __tablename__ = "transfer_serials"
    __table_args__ = (
        PrimaryKeyConstraint("transfer_id", "serial_id"),
        CheckConstraint("status IN ('in_transit', 'received', 'written_off')", name="status"),
    )

    transfer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("transfers.id"))
    serial_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("serials.id"))
    tenant_id: Mapped[int] = tenant_column()
    item_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("items.id"))
    lot_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("lots.id"))
    status: Mapped[str] = mapped_column(String(16))


class Alert(Base):
    """Something an operator must look at (a transfer overdue in transit, ...). Raised
    once per `key`; resolved with a note."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "key"),
        Index("ix_alerts_open", "tenant_id", "id", postgresql_where=text("resolved_at IS NULL")),
    )

    id: Mapped[int] = id_column()
    tenant_id: Mapped[int] = tenant_column()
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    reference_type: Mapped[str] = mapped_column(String(32))
    reference_id: Mapped[str] = mapped_column(String(128))
    message: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = created_column()
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str | None] = mapped_column(String(500))
