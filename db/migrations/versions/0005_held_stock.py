"""held stock: on hand in lots on hold or quarantine is never promised

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "stock_levels", sa.Column("held", sa.BigInteger(), server_default="0", nullable=False)
    )
    # what is already on hand in lots that are not available
    op.execute(
        "UPDATE stock_levels s SET held = h.on_hand FROM ("
        " SELECT b.warehouse_id, b.item_id, sum(b.on_hand) AS on_hand FROM balances b"
        " JOIN lots l ON l.id = b.lot_id WHERE l.status <> 'available' GROUP BY 1, 2) h"
        " WHERE (s.warehouse_id, s.item_id) = (h.warehouse_id, h.item_id)"
    )
    op.drop_constraint(op.f("ck_stock_levels_not_negative"), "stock_levels", type_="check")
    op.drop_constraint(op.f("ck_stock_levels_no_oversell"), "stock_levels", type_="check")
    op.create_check_constraint(
        op.f("ck_stock_levels_not_negative"),
        "stock_levels",
        "on_hand >= 0 AND reserved >= 0 AND allocated >= 0 AND in_transit >= 0 "
        "AND incoming >= 0 AND held >= 0",
    )
    op.create_check_constraint(
        op.f("ck_stock_levels_no_oversell"),
        "stock_levels",
        "reserved + allocated + held <= on_hand",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_stock_levels_not_negative"), "stock_levels", type_="check")
    op.drop_constraint(op.f("ck_stock_levels_no_oversell"), "stock_levels", type_="check")
    op.create_check_constraint(
        op.f("ck_stock_levels_not_negative"),
        "stock_levels",
        "on_hand >= 0 AND reserved >= 0 AND allocated >= 0 AND in_transit >= 0 AND incoming >= 0",
    )
    op.create_check_constraint(
        op.f("ck_stock_levels_no_oversell"), "stock_levels", "reserved + allocated <= on_hand"
    )
    op.drop_column("stock_levels", "held")
