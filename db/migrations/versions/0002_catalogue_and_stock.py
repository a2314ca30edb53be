"""catalogue and stock

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_records",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_idempotency_records_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "key", name=op.f("pk_idempotency_records")),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("uom_unit", sa.String(length=16), nullable=False),
        sa.Column("base_units_per_unit", sa.Integer(), nullable=False),
        sa.Column("min_increment_base", sa.BigInteger(), nullable=False),
        sa.Column("min_cut_base", sa.BigInteger(), nullable=False),
        sa.Column("rounding", sa.String(length=8), nullable=False),
        sa.Column("track_lot", sa.Boolean(), nullable=False),
        sa.Column("track_serial", sa.Boolean(), nullable=False),
        sa.Column("track_expiry", sa.Boolean(), nullable=False),
        sa.Column("default_strategy", sa.String(length=8), nullable=False),
        sa.Column("reorder_point", sa.BigInteger(), nullable=False),
        sa.Column("safety_stock", sa.BigInteger(), nullable=False),
        sa.Column("low_stock_threshold", sa.BigInteger(), nullable=False),
        sa.Column("backorder_policy", sa.String(length=16), nullable=False),
        sa.Column("backorder_limit", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "backorder_policy <> 'allow_until' OR backorder_limit IS NOT NULL",
            name=op.f("ck_items_backorder_limit"),
        ),
        sa.CheckConstraint(
            "backorder_policy IN ('deny', 'allow', 'allow_until')",
            name=op.f("ck_items_backorder_policy"),
        ),
        sa.CheckConstraint(
            "default_strategy IN ('fifo', 'lifo', 'fefo')", name=op.f("ck_items_strategy")
        ),
        sa.CheckConstraint("rounding IN ('up', 'down', 'nearest')", name=op.f("ck_items_rounding")),
        sa.CheckConstraint("base_units_per_unit >= 1", name=op.f("ck_items_base_units")),
        sa.CheckConstraint("min_cut_base >= 0", name=op.f("ck_items_min_cut")),
        sa.CheckConstraint("min_increment_base >= 1", name=op.f("ck_items_min_increment")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_items_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_items")),
        sa.UniqueConstraint("tenant_id", "sku", name=op.f("uq_items_tenant_id_sku")),
    )
    op.create_table(
        "warehouses",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_warehouses_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warehouses")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_warehouses_tenant_id_code")),
    )
    op.create_table(
        "locations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("warehouse_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("pickable", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "type IN ('zone', 'aisle', 'rack', 'bin', 'slot', 'dock', 'staging')",
            name=op.f("ck_locations_type"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["locations.id"], name=op.f("fk_locations_parent_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_locations_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_locations_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_locations")),
        sa.UniqueConstraint("warehouse_id", "code", name=op.f("uq_locations_warehouse_id_code")),
    )
    op.create_index(op.f("ix_locations_parent_id"), "locations", ["parent_id"], unique=False)
    op.create_table(
        "lots",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("lot_number", sa.String(length=64), nullable=False),
        sa.Column("manufactured_on", sa.Date(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "status IN ('available', 'hold', 'quarantine', 'expired')", name=op.f("ck_lots_status")
        ),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_lots_item_id_items")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_lots_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lots")),
        sa.UniqueConstraint("item_id", "lot_number", name=op.f("uq_lots_item_id_lot_number")),
    )
    op.create_table(
        "stock_levels",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("warehouse_id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("on_hand", sa.BigInteger(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("allocated", sa.BigInteger(), nullable=False),
        sa.Column("in_transit", sa.BigInteger(), nullable=False),
        sa.Column("incoming", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "on_hand >= 0 AND reserved >= 0 AND allocated >= 0 AND in_transit >= 0 AND incoming >= 0",
            name=op.f("ck_stock_levels_not_negative"),
        ),
        sa.CheckConstraint(
            "reserved + allocated <= on_hand", name=op.f("ck_stock_levels_no_oversell")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_stock_levels_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_stock_levels_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_stock_levels_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("warehouse_id", "item_id", name=op.f("pk_stock_levels")),
    )
    op.create_index(
        "ix_stock_levels_tenant_item", "stock_levels", ["tenant_id", "item_id"], unique=False
    )
    op.create_table(
        "lot_levels",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("warehouse_id", sa.BigInteger(), nullable=False),
        sa.Column("lot_id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("on_hand", sa.BigInteger(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("allocated", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "on_hand >= 0 AND reserved >= 0 AND allocated >= 0",
            name=op.f("ck_lot_levels_not_negative"),
        ),
        sa.CheckConstraint(
            "reserved + allocated <= on_hand", name=op.f("ck_lot_levels_no_oversell")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_lot_levels_item_id_items")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_lot_levels_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_lot_levels_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_lot_levels_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("warehouse_id", "lot_id", name=op.f("pk_lot_levels")),
    )
    op.create_table(
        "reservations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("warehouse_id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("lot_id", sa.BigInteger(), nullable=True),
        sa.Column("requested", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source_type", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.String(length=128), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('active', 'allocated', 'released', 'expired')",
            name=op.f("ck_reservations_status"),
        ),
        sa.CheckConstraint(
            "quantity >= 0 AND quantity <= requested", name=op.f("ck_reservations_quantity")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_reservations_item_id_items")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_reservations_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_reservations_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_reservations_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
    )
    op.create_index(
        "ix_reservations_open",
        "reservations",
        ["warehouse_id", "item_id"],
        unique=False,
        postgresql_where=sa.text("quantity > 0"),
    )
    op.create_index(
        "ix_reservations_source",
        "reservations",
        ["tenant_id", "source_type", "source_id"],
        unique=False,
    )
    op.create_table(
        "serials",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("lot_id", sa.BigInteger(), nullable=True),
        sa.Column("serial_number", sa.String(length=128), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_serials_item_id_items")),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_serials_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_serials_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_serials")),
        sa.UniqueConstraint(
            "item_id", "serial_number", name=op.f("uq_serials_item_id_serial_number")
        ),
    )
    op.create_table(
        "balances",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("warehouse_id", sa.BigInteger(), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("lot_id", sa.BigInteger(), nullable=True),
        sa.Column("serial_id", sa.BigInteger(), nullable=True),
        sa.Column("on_hand", sa.BigInteger(), nullable=False),
        sa.Column("allocated", sa.BigInteger(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "allocated >= 0 AND allocated <= on_hand", name=op.f("ck_balances_allocated")
        ),
        sa.CheckConstraint("on_hand >= 0", name=op.f("ck_balances_on_hand")),
        sa.CheckConstraint(
            "serial_id IS NULL OR on_hand <= 1", name=op.f("ck_balances_one_per_serial")
        ),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_balances_item_id_items")),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_balances_location_id_locations")
        ),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_balances_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["serial_id"], ["serials.id"], name=op.f("fk_balances_serial_id_serials")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_balances_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_balances_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_balances")),
    )
    op.create_index(
        "ix_balances_item_warehouse", "balances", ["item_id", "warehouse_id"], unique=False
    )
    op.create_index(
        "uq_balances_place",
        "balances",
        [
            "location_id",
            "item_id",
            sa.literal_column("coalesce(lot_id, 0)"),
            sa.literal_column("coalesce(serial_id, 0)"),
        ],
        unique=True,
    )
    op.create_table(
        "movements",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=24), nullable=False),
        sa.Column("warehouse_id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("lot_id", sa.BigInteger(), nullable=True),
        sa.Column("serial_id", sa.BigInteger(), nullable=True),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("from_location_id", sa.BigInteger(), nullable=True),
        sa.Column("to_location_id", sa.BigInteger(), nullable=True),
        sa.Column("reference_type", sa.String(length=32), nullable=False),
        sa.Column("reference_id", sa.String(length=128), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "from_location_id IS NOT NULL OR to_location_id IS NOT NULL",
            name=op.f("ck_movements_has_place"),
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_movements_quantity")),
        sa.ForeignKeyConstraint(
            ["from_location_id"],
            ["locations.id"],
            name=op.f("fk_movements_from_location_id_locations"),
        ),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], name=op.f("fk_movements_item_id_items")),
        sa.ForeignKeyConstraint(["lot_id"], ["lots.id"], name=op.f("fk_movements_lot_id_lots")),
        sa.ForeignKeyConstraint(
            ["serial_id"], ["serials.id"], name=op.f("fk_movements_serial_id_serials")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_movements_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["to_location_id"], ["locations.id"], name=op.f("fk_movements_to_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_movements_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_movements")),
        sa.UniqueConstraint(
            "tenant_id",
            "idempotency_key",
            "seq",
            name=op.f("uq_movements_tenant_id_idempotency_key_seq"),
        ),
    )
    op.create_index("ix_movements_from", "movements", ["from_location_id", "item_id"], unique=False)
    op.create_index(
        "ix_movements_tenant_item", "movements", ["tenant_id", "item_id", "id"], unique=False
    )
    op.create_index(
        "ix_movements_tenant_reference",
        "movements",
        ["tenant_id", "reference_type", "reference_id"],
        unique=False,
    )
    op.create_index("ix_movements_to", "movements", ["to_location_id", "item_id"], unique=False)
    op.create_table(
        "allocations",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("reservation_id", sa.BigInteger(), nullable=True),
        sa.Column("balance_id", sa.BigInteger(), nullable=False),
        sa.Column("warehouse_id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reference_type", sa.String(length=32), nullable=False),
        sa.Column("reference_id", sa.String(length=128), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('allocated', 'picked', 'shipped', 'released')",
            name=op.f("ck_allocations_status"),
        ),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_allocations_quantity")),
        sa.ForeignKeyConstraint(
            ["balance_id"], ["balances.id"], name=op.f("fk_allocations_balance_id_balances")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_allocations_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["reservation_id"],
            ["reservations.id"],
            name=op.f("fk_allocations_reservation_id_reservations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_allocations_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_allocations_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocations")),
    )
    op.create_index(
        "ix_allocations_balance_open",
        "allocations",
        ["balance_id"],
        unique=False,
        postgresql_where=sa.text("quantity > 0"),
    )
    op.create_index(
        "ix_allocations_reference",
        "allocations",
        ["tenant_id", "reference_type", "reference_id"],
        unique=False,
    )
    op.create_index("ix_allocations_reservation", "allocations", ["reservation_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_allocations_reservation", table_name="allocations")
    op.drop_index("ix_allocations_reference", table_name="allocations")
    op.drop_index(
        "ix_allocations_balance_open",
        table_name="allocations",
        postgresql_where=sa.text("quantity > 0"),
    )
    op.drop_table("allocations")
    op.drop_index("ix_movements_to", table_name="movements")
    op.drop_index("ix_movements_tenant_reference", table_name="movements")
    op.drop_index("ix_movements_tenant_item", table_name="movements")
    op.drop_index("ix_movements_from", table_name="movements")
    op.drop_table("movements")
    op.drop_index("uq_balances_place", table_name="balances")
    op.drop_index("ix_balances_item_warehouse", table_name="balances")
    op.drop_table("balances")
    op.drop_table("serials")
    op.drop_index("ix_reservations_source", table_name="reservations")
    op.drop_index(
        "ix_reservations_open", table_name="reservations", postgresql_where=sa.text("quantity > 0")
    )
    op.drop_table("reservations")
    op.drop_table("lot_levels")
    op.drop_index("ix_stock_levels_tenant_item", table_name="stock_levels")
    op.drop_table("stock_levels")
    op.drop_table("lots")
    op.drop_index(op.f("ix_locations_parent_id"), table_name="locations")
    op.drop_table("locations")
    op.drop_table("warehouses")
    op.drop_table("items")
    op.drop_table("idempotency_records")
