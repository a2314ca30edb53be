"""replenishment and stock control: item replenishment fields, barcodes, suppliers,
warehouse address, lot status reason, purchase orders, recalls

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _tenant() -> sa.Column[object]:
    return sa.Column("tenant_id", sa.BigInteger, sa.ForeignKey("tenants.id"), nullable=False)


def _item() -> sa.Column[object]:
    return sa.Column("item_id", sa.BigInteger, sa.ForeignKey("items.id"), nullable=False)


def upgrade() -> None:
    op.add_column("items", sa.Column("lead_time_days", sa.Integer, nullable=True))
    op.add_column(
        "items",
        sa.Column("purchase_multiple", sa.BigInteger, nullable=False, server_default="1"),
    )
    op.add_column("items", sa.Column("max_stock", sa.BigInteger, nullable=True))
    op.add_column("items", sa.Column("expiry_warning_days", sa.Integer, nullable=True))
    op.add_column("items", sa.Column("default_supplier", sa.String(128), nullable=True))
    op.add_column(
        "items", sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true())
    )
    op.create_check_constraint("purchase_multiple", "items", "purchase_multiple >= 1")
    op.create_check_constraint(
        "lead_time", "items", "lead_time_days IS NULL OR lead_time_days >= 0"
    )
    op.create_check_constraint("max_stock", "items", "max_stock IS NULL OR max_stock >= 0")
    op.create_check_constraint(
        "expiry_warning", "items", "expiry_warning_days IS NULL OR expiry_warning_days >= 0"
    )
    op.add_column("warehouses", sa.Column("address", postgresql.JSONB, nullable=True))
    op.add_column("lots", sa.Column("status_reason", sa.String(500), nullable=True))

    op.create_table(
        "item_barcodes",
        _tenant(),
        sa.Column("barcode", sa.String(32), nullable=False),
        _item(),
        sa.PrimaryKeyConstraint("tenant_id", "barcode"),
    )
    op.create_index("ix_item_barcodes_item", "item_barcodes", ["item_id"])
    op.create_table(
        "item_suppliers",
        _tenant(),
        _item(),
        sa.Column("supplier", sa.String(128), nullable=False),
        sa.Column("lead_time_days", sa.Integer, nullable=False),
        sa.Column("purchase_multiple", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("item_id", "supplier"),
        sa.CheckConstraint("lead_time_days >= 0", name="lead_time"),
        sa.CheckConstraint(
            "purchase_multiple IS NULL OR purchase_multiple >= 1", name="purchase_multiple"
        ),
    )
    op.create_table(
        "purchase_orders",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _tenant(),
        sa.Column("po_number", sa.String(64), nullable=False),
        sa.Column("supplier", sa.String(128), nullable=False),
        sa.Column("warehouse_id", sa.BigInteger, sa.ForeignKey("warehouses.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("workflow_id", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("tenant_id", "po_number"),
        sa.CheckConstraint("status IN ('open', 'received', 'closed', 'canceled')", name="status"),
    )
    op.create_index(
        "ix_purchase_orders_open",
        "purchase_orders",
        ["tenant_id", "id"],
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "purchase_order_lines",
        sa.Column(
            "purchase_order_id",
            sa.BigInteger,
            sa.ForeignKey("purchase_orders.id"),
            nullable=False,
        ),
        sa.Column("line_no", sa.Integer, nullable=False),
        _tenant(),
        _item(),
        sa.Column("ordered", sa.BigInteger, nullable=False),
        sa.Column("received", sa.BigInteger, nullable=False),
        sa.Column("expected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("purchase_order_id", "line_no"),
        sa.CheckConstraint("ordered > 0 AND received >= 0", name="quantities"),
    )
    op.create_index(
        "ix_purchase_order_lines_item", "purchase_order_lines", ["item_id", "expected_at"]
    )
    op.create_table(
        "recalls",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _tenant(),
        _item(),
        sa.Column("lots", postgresql.ARRAY(sa.String(64)), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("workflow_id", sa.String(200), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("report", postgresql.JSONB, nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("tenant_id", "idempotency_key"),
        sa.CheckConstraint("status IN ('running', 'completed')", name="status"),
    )


def downgrade() -> None:
    op.drop_table("recalls")
    op.drop_index("ix_purchase_order_lines_item", table_name="purchase_order_lines")
    op.drop_table("purchase_order_lines")
    op.drop_index("ix_purchase_orders_open", table_name="purchase_orders")
    op.drop_table("purchase_orders")
    op.drop_table("item_suppliers")
    op.drop_index("ix_item_barcodes_item", table_name="item_barcodes")
    op.drop_table("item_barcodes")
    op.drop_column("lots", "status_reason")
    op.drop_column("warehouses", "address")
    for name in ("expiry_warning", "max_stock", "lead_time", "purchase_multiple"):
        op.drop_constraint(name, "items", type_="check")
    for column in (
        "active",
        "default_supplier",
        "expiry_warning_days",
        "max_stock",
        "purchase_multiple",
        "lead_time_days",
    ):
        op.drop_column("items", column)
