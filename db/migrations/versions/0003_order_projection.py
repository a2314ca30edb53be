"""order projection

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("fulfillment_policy", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("allow_split", sa.Boolean(), nullable=False),
        sa.Column("preferred_warehouse", sa.String(length=32), nullable=True),
        sa.Column("payment_status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("view", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_orders_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint(
            "tenant_id", "order_number", name=op.f("uq_orders_tenant_id_order_number")
        ),
    )
    op.create_index(
        "ix_orders_tenant_customer", "orders", ["tenant_id", "customer_id", "id"], unique=False
    )
    op.create_index(
        "ix_orders_tenant_status", "orders", ["tenant_id", "status", "id"], unique=False
    )
    op.create_table(
        "fulfillment_requests",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("warehouse", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("view", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_fulfillment_requests_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_fulfillment_requests_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfillment_requests")),
    )
    op.create_index(
        "ix_fulfillment_requests_queue",
        "fulfillment_requests",
        ["tenant_id", "warehouse", "status"],
        unique=False,
    )
    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("ordered", sa.BigInteger(), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("backordered", sa.BigInteger(), nullable=False),
        sa.Column("shipped", sa.BigInteger(), nullable=False),
        sa.Column("canceled", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_order_lines_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_lines_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_order_lines_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("order_id", "line_id", name=op.f("pk_order_lines")),
    )
    op.create_index(
        "ix_order_lines_waiting",
        "order_lines",
        ["item_id"],
        unique=False,
        postgresql_where=sa.text("backordered > 0"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_order_lines_waiting",
        table_name="order_lines",
        postgresql_where=sa.text("backordered > 0"),
    )
    op.drop_table("order_lines")
    op.drop_index("ix_fulfillment_requests_queue", table_name="fulfillment_requests")
    op.drop_table("fulfillment_requests")
    op.drop_index("ix_orders_tenant_status", table_name="orders")
    op.drop_index("ix_orders_tenant_customer", table_name="orders")
    op.drop_table("orders")
