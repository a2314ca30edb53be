"""lots: who last changed a lot's status, and when (the lot-expiry schedule, a release)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Statuses set before this revision keep no author: NULL says "not recorded".
    op.add_column("lots", sa.Column("status_changed_by", sa.String(128), nullable=True))
    op.add_column("lots", sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_lots_expiring",
        "lots",
        ["expires_on", "id"],
        postgresql_where=sa.text("status = 'available' AND expires_on IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_lots_expiring", table_name="lots")
    op.drop_column("lots", "status_changed_at")
    op.drop_column("lots", "status_changed_by")
