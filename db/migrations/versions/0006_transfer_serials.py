"""transfer serials: each serial a transfer shipped, until received or written off

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transfer_serials",
        sa.Column("transfer_id", sa.BigInteger(), nullable=False),
        sa.Column("serial_id", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.Column("lot_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "status IN ('in_transit', 'received', 'written_off')",
            name=op.f("ck_transfer_serials_status"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_transfer_serials_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"], ["lots.id"], name=op.f("fk_transfer_serials_lot_id_lots")
        ),
        sa.ForeignKeyConstraint(
            ["serial_id"], ["serials.id"], name=op.f("fk_transfer_serials_serial_id_serials")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_transfer_serials_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["transfers.id"],
            name=op.f("fk_transfer_serials_transfer_id_transfers"),
        ),
        sa.PrimaryKeyConstraint("transfer_id", "serial_id", name=op.f("pk_transfer_serials")),
    )


def downgrade() -> None:
    op.drop_table("transfer_serials")
