"""fulfillment requests are keyed per tenant: (tenant_id, id)

A request's id is made of its order number, which is unique only within a tenant.
Keyed by id alone, a second tenant's request with the same id overwrote the first
one's view and status (keeping the first tenant's row) and got no row of its own.
After the key change every request is written again from its order's projected
view, which was always kept per tenant: overwritten rows get their own view back,
missing ones appear.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
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
    op.execute(
        """
        INSERT INTO fulfillment_requests (tenant_id, id, order_id, workflow_id, warehouse,
                                          status, view)
        SELECT o.tenant_id, r->>'id', o.id, o.workflow_id, r->>'warehouse', r->>'status', r
        FROM orders o, jsonb_array_elements(o.view->'fulfillment_requests') AS r
        WHERE jsonb_typeof(o.view->'fulfillment_requests') = 'array'
        ON CONFLICT (tenant_id, id) DO UPDATE
        SET order_id = excluded.order_id, workflow_id = excluded.workflow_id,
            warehouse = excluded.warehouse, status = excluded.status, view = excluded.view
        WHERE (fulfillment_requests.order_id, fulfillment_requests.status,
               fulfillment_requests.view)
              IS DISTINCT FROM (excluded.order_id, excluded.status, excluded.view)
        """
    )


def downgrade() -> None:
    shared = op.get_bind().scalar(
        sa.text("SELECT id FROM fulfillment_requests GROUP BY id HAVING count(*) > 1 LIMIT 1")
    )
    if shared is not None:
        raise RuntimeError(
            f"cannot key fulfillment requests by id alone: {shared!r} belongs to several "
            "tenants (rename or delete one first)"
        )
    op.drop_constraint(op.f("pk_fulfillment_requests"), "fulfillment_requests", type_="primary")
    op.create_primary_key(op.f("pk_fulfillment_requests"), "fulfillment_requests", ["id"])
