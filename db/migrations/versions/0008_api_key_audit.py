"""api keys: who created and who revoked each key

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Keys made before this revision were made by `oms keys`, the seed or an admin
    # whose identity was not kept: "unknown" says so rather than guessing.
    op.add_column(
        "api_keys",
        sa.Column("created_by", sa.String(64), nullable=False, server_default="unknown"),
    )
    op.alter_column("api_keys", "created_by", server_default=None)
    op.add_column("api_keys", sa.Column("revoked_by", sa.String(64), nullable=True))
    op.execute("UPDATE api_keys SET revoked_by = 'unknown' WHERE revoked_at IS NOT NULL")
    op.create_check_constraint(
        op.f("ck_api_keys_revoked_by_with_revoked_at"),
        "api_keys",
        "(revoked_at IS NULL) = (revoked_by IS NULL)",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_api_keys_revoked_by_with_revoked_at"), "api_keys")
    op.drop_column("api_keys", "revoked_by")
    op.drop_column("api_keys", "created_by")
