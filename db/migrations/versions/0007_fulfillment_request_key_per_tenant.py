"""fulfillment requests are keyed per tenant: (tenant_id, id)

A request's id is made of its order number, which is unique only within a tenant;
keyed by id alone, two tenants' requests could take the same row.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint(op.f("pk_fulfillment_requests"), "fulfillment_requests", type_="primary")
    op.create_primary_key(
        op.f("pk_fulfillment_requests"), "fulfillment_requests", ["tenant_id", "id"]
    )


def downgrade() -> None:
    op.drop_constraint(op.f("pk_fulfillment_requests"), "fulfillment_requests", type_="primary")
    op.create_primary_key(op.f("pk_fulfillment_requests"), "fulfillment_requests", ["id"])
