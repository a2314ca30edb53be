"""stock functions: an order's allocation step as one call, kept whole

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03

An order's allocation step allocates each of its reservations: one call of
oms_allocate each, under a key each, so far each its own transaction. Here one
call runs them all in one statement, as 0022 does for a pick or a ship: every
answer, or nothing kept. They run in the order of the stock they move
(warehouse, item: the levels an allocation locks), then as asked, so two steps
over the same items lock them in the same order (the reference does the same).
Each still claims its own key or replays its record; a key recorded for another
request, or a reservation with nothing left (a release came first), defers to
the reference (db/stock/steps.py `reference_allocate_all`, one transaction),
which leaves a reservation with nothing left out of the step and refuses the
rest as the single operation does.
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

FUNCTIONS = r"""
-- The order an allocation step's operations run in: by the stock they move
-- (warehouse, item), then as given; a reservation not found last.
CREATE OR REPLACE FUNCTION oms_reservation_order(p_tenant bigint, p_reservations bigint[])
RETURNS SETOF bigint LANGUAGE sql STABLE AS $$
    SELECT u.n FROM unnest(p_reservations) WITH ORDINALITY AS u(id, n)
    LEFT JOIN reservations r ON r.id = u.id AND r.tenant_id = p_tenant
    ORDER BY r.warehouse_id, r.item_id, u.n
$$;

-- Allocate each reservation (oms_allocate) in the step's order: every answer, in
-- the order asked, or defer.
CREATE OR REPLACE FUNCTION oms_allocate_all(p_tenant bigint, p_keys text[], p_hashes text[],
                                            p_reservations bigint[], p_quantities bigint[],
                                            p_reference_types text[], p_reference_ids text[])
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    answers jsonb[] := array_fill(NULL::jsonb, ARRAY[cardinality(p_keys)]);
    k bigint;
BEGIN
    FOR k IN SELECT oms_reservation_order(p_tenant, p_reservations) LOOP
        answers[k] := oms_step_answer(
            oms_allocate(p_tenant, p_keys[k], p_hashes[k], p_reservations[k], p_quantities[k],
                         p_reference_types[k], p_reference_ids[k]),
            'allocate', p_hashes[k]);
    END LOOP;
    IF array_position(answers, NULL) IS NOT NULL THEN
        PERFORM oms_defer('the step names fewer reservations than keys');
    END IF;
    RETURN to_jsonb(answers);
END $$;
"""


def upgrade() -> None:
    op.execute(FUNCTIONS)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION IF EXISTS oms_allocate_all(bigint, text[], text[], bigint[], bigint[],"
        " text[], text[]);"
        "DROP FUNCTION IF EXISTS oms_reservation_order(bigint, bigint[]);"
    )
