"""stock functions: an order's reservation step as one call, kept whole

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03

An order's reservation step reserves each of its lines where the plan says: one
call of oms_reserve each, under a key each, so far each its own transaction. Here
one call runs them all in one statement, as 0022 and 0023 do for the other steps:
every answer, or nothing kept. Lines run in the order of the lowest stock each
names (warehouse, item), then as asked (the reference does the same): two steps
of lines at one warehouse each lock levels in one order; a line split over
warehouses may still meet another step in a deadlock, which PostgreSQL breaks
and the call retries. Each still replays its key's record; a key recorded for
another request defers. A line the levels refuse (the stock moved since the
plan) defers as oms_reserve does: the reference (db/stock/steps.py
`reference_reserve_all`, one transaction) then refuses the whole step, naming
the short lines of the first line short, and the order's step plans again line
by line.

A step's reservation lines are flat arrays (a reservation line's step line in
p_lines, from 1): PostgreSQL's arrays are rectangular.
"""

from __future__ import annotations

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

FUNCTIONS = r"""
-- The order a reservation step's lines run in: by the lowest stock (warehouse,
-- item) each names, then as given; a line naming an unknown code last.
CREATE OR REPLACE FUNCTION oms_line_order(p_tenant bigint, p_lines int[], p_warehouses text[],
                                          p_skus text[])
RETURNS SETOF int LANGUAGE sql STABLE AS $$
    SELECT u.line FROM unnest(p_lines, p_warehouses, p_skus) AS u(line, w, s)
    LEFT JOIN warehouses w ON w.tenant_id = p_tenant AND w.code = u.w
    LEFT JOIN items i ON i.tenant_id = p_tenant AND i.sku = u.s
    GROUP BY u.line
    ORDER BY bool_or(w.id IS NULL OR i.id IS NULL), min(ARRAY[w.id, i.id]), u.line
$$;

-- Reserve each line (oms_reserve) in the step's order: every answer, in the order
-- asked, or defer.
CREATE OR REPLACE FUNCTION oms_reserve_all(
    p_tenant bigint, p_keys text[], p_hashes text[], p_source_types text[],
    p_source_ids text[], p_expires_at timestamptz[], p_today date,
    p_lines int[], p_warehouses text[], p_skus text[], p_quantities bigint[])
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    answers jsonb[] := array_fill(NULL::jsonb, ARRAY[cardinality(p_keys)]);
    k int;
BEGIN
    IF EXISTS (SELECT 1 FROM unnest(p_lines) AS l
               WHERE l IS NULL OR l < 1 OR l > cardinality(p_keys)) THEN
        PERFORM oms_defer('a reservation line names no line of the step');
    END IF;
    FOR k IN SELECT oms_line_order(p_tenant, p_lines, p_warehouses, p_skus) LOOP
        answers[k] := oms_step_answer(
            oms_reserve(p_tenant, p_keys[k], p_hashes[k],
                        ARRAY(SELECT u.w FROM unnest(p_lines, p_warehouses)
                              WITH ORDINALITY AS u(l, w, n) WHERE u.l = k ORDER BY u.n),
                        ARRAY(SELECT u.s FROM unnest(p_lines, p_skus)
                              WITH ORDINALITY AS u(l, s, n) WHERE u.l = k ORDER BY u.n),
                        ARRAY(SELECT u.q FROM unnest(p_lines, p_quantities)
                              WITH ORDINALITY AS u(l, q, n) WHERE u.l = k ORDER BY u.n),
                        p_source_types[k], p_source_ids[k], p_expires_at[k], p_today),
            'reserve', p_hashes[k]);
    END LOOP;
    IF array_position(answers, NULL) IS NOT NULL THEN
        PERFORM oms_defer('a step line names no stock');
    END IF;
    RETURN to_jsonb(answers);
END $$;
"""


def upgrade() -> None:
    op.execute(FUNCTIONS)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION IF EXISTS oms_reserve_all(bigint, text[], text[], text[], text[],"
        " timestamptz[], date, int[], text[], text[], bigint[]);"
        "DROP FUNCTION IF EXISTS oms_line_order(bigint, int[], text[], text[]);"
    )
