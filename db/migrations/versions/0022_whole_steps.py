"""stock functions: a warehouse step's picks (or ships) as one call, kept whole

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03

A pick or a ship of a fulfilment request moves each of its allocations: one call
of oms_pick (oms_ship) each, under a key each, so far each its own transaction. A
step refused for good at its second allocation kept the first: picked (shipped)
behind the order's back, which its run never learned, so the step could neither
be asked again (the first allocation was no longer open) nor given back. Here one
call runs a step's operations in turn in one statement: every answer, or nothing
kept. They run in the order of the stock they move (warehouse, item), so two steps
over the same items lock them in the same order (the reference does the same).
Each still claims its own key (or replays its record, so a step whose
operations committed one by one before keeps them and runs the rest); a key
recorded for another request defers, so the reference (db/stock/operation.py
`run_operations`, also one transaction) refuses the whole step with the conflict.
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

FUNCTIONS = r"""
-- A step's answer for one operation, unless its key was used for another request.
CREATE OR REPLACE FUNCTION oms_step_answer(p_answer jsonb, p_operation text, p_hash text)
RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
    IF p_answer ? 'replay' AND (p_answer->'replay'->>'operation' IS DISTINCT FROM p_operation
                                OR p_answer->'replay'->>'request_hash' IS DISTINCT FROM p_hash)
    THEN
        PERFORM oms_defer('a key of the step was used for another request');
    END IF;
    RETURN p_answer;
END $$;

-- The order a step's operations run in: by the stock they move (warehouse, item),
-- as every operation that locks several levels takes them, then as given. Two
-- steps over the same items thus lock them in the same order.
CREATE OR REPLACE FUNCTION oms_step_order(p_tenant bigint, p_allocations bigint[])
RETURNS SETOF bigint LANGUAGE sql STABLE AS $$
    SELECT u.n FROM unnest(p_allocations) WITH ORDINALITY AS u(id, n)
    LEFT JOIN allocations a ON a.id = u.id AND a.tenant_id = p_tenant
    ORDER BY a.warehouse_id, a.item_id, u.n
$$;

-- Pick each allocation (oms_pick) in the step's order: every answer, in the order
-- asked, or defer.
CREATE OR REPLACE FUNCTION oms_pick_all(p_tenant bigint, p_keys text[], p_hashes text[],
                                        p_actor text, p_allocations bigint[],
                                        p_quantities bigint[], p_to text[])
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    answers jsonb[] := array_fill(NULL::jsonb, ARRAY[cardinality(p_keys)]);
    k bigint;
BEGIN
    FOR k IN SELECT oms_step_order(p_tenant, p_allocations) LOOP
        answers[k] := oms_step_answer(
            oms_pick(p_tenant, p_keys[k], p_hashes[k], p_actor, p_allocations[k],
                     p_quantities[k], p_to[k]),
            'pick', p_hashes[k]);
    END LOOP;
    RETURN to_jsonb(answers);
END $$;

-- Ship each allocation (oms_ship) in the step's order: every answer, in the order
-- asked, or defer.
CREATE OR REPLACE FUNCTION oms_ship_all(p_tenant bigint, p_keys text[], p_hashes text[],
                                        p_actor text, p_allocations bigint[])
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    answers jsonb[] := array_fill(NULL::jsonb, ARRAY[cardinality(p_keys)]);
    k bigint;
BEGIN
    FOR k IN SELECT oms_step_order(p_tenant, p_allocations) LOOP
        answers[k] := oms_step_answer(
            oms_ship(p_tenant, p_keys[k], p_hashes[k], p_actor, p_allocations[k]),
            'ship', p_hashes[k]);
    END LOOP;
    RETURN to_jsonb(answers);
END $$;
"""


def upgrade() -> None:
    op.execute(FUNCTIONS)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION IF EXISTS oms_ship_all(bigint, text[], text[], text, bigint[]);"
        "DROP FUNCTION IF EXISTS oms_pick_all(bigint, text[], text[], text, bigint[], bigint[],"
        " text[]);"
        "DROP FUNCTION IF EXISTS oms_step_order(bigint, bigint[]);"
        "DROP FUNCTION IF EXISTS oms_step_answer(jsonb, text, text);"
    )
