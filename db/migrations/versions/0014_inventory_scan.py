"""inventory scan: a tenant's lot levels by key (the scan pages them)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_lot_levels_tenant_lot", "lot_levels", ["tenant_id", "lot_id", "warehouse_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_lot_levels_tenant_lot", table_name="lot_levels")
