"""orders: the requested ship time, by which the warehouse's queue sorts and filters

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-01

(Named 0010: another part of the same change may add a 0009; renumber on merge.)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Orders in flight get it with their next projected view (it carries `shipping`).
    op.add_column(
        "orders", sa.Column("requested_ship_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("orders", "requested_ship_at")
