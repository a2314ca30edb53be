"""stock functions: reserve and release as one server-side call each

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

The common case of a reservation and of its release runs inside PostgreSQL as
one function call (one round trip, its own transaction): it claims the
idempotency key, checks what the reference implementation checks, writes the
document rows and the levels under the same guards and lock order, and stores
the result. Anything out of the common case (an unknown or inactive code, a lot,
a shortage, a level at or below its low-stock threshold, an expired lot not
marked yet) raises SQLSTATE OMS01 before anything is kept, and the caller runs
the reference implementation (db/stock/promising.py), which decides and words it.
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

FUNCTIONS = r"""
-- Hand the call to the reference implementation: nothing of it is kept.
CREATE OR REPLACE FUNCTION oms_defer(p_reason text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'OMS01', MESSAGE = p_reason;
END $$;

-- Take an idempotency key for this transaction: NULL when taken; otherwise the
-- record that has it (a concurrent twin waits here for the first to commit).
CREATE OR REPLACE FUNCTION oms_claim(p_tenant bigint, p_key text, p_operation text, p_hash text)
RETURNS jsonb LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO idempotency_records (tenant_id, key, operation, request_hash, result)
    VALUES (p_tenant, p_key, p_operation, p_hash, '{}')
    ON CONFLICT (tenant_id, key) DO NOTHING;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    RETURN (SELECT jsonb_build_object('operation', operation, 'request_hash', request_hash,
                                      'result', result)
            FROM idempotency_records WHERE tenant_id = p_tenant AND key = p_key);
END $$;

-- Whether a change of `available` from `before` to `after` (unclamped) stays
-- clear of every line an inventory event marks (0 and the low-stock threshold):
-- the events themselves are the reference implementation's to write.
CREATE OR REPLACE FUNCTION oms_clear_of_thresholds(p_before bigint, p_after bigint,
                                                   p_threshold bigint)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT least(p_before, p_after) > greatest(p_threshold, 0)
$$;

-- The level's reserved quantity moves by p_delta under the level's guard; defers
-- when the guard refuses (a shortage) or the move nears a threshold.
CREATE OR REPLACE FUNCTION oms_move_reserved(p_warehouse bigint, p_item bigint, p_delta bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    after record;
BEGIN
    UPDATE stock_levels AS s SET reserved = s.reserved + p_delta
    WHERE s.warehouse_id = p_warehouse AND s.item_id = p_item
      AND s.reserved + p_delta >= 0
      AND s.reserved + p_delta + s.allocated + s.held <= s.on_hand
    RETURNING s.on_hand - s.reserved - s.allocated - s.held AS available,
              (SELECT low_stock_threshold FROM items WHERE id = s.item_id) AS threshold
    INTO after;
    IF NOT FOUND THEN
        PERFORM oms_defer('the level refuses the change');
    END IF;
    IF NOT oms_clear_of_thresholds(after.available + p_delta, after.available,
                                   after.threshold) THEN
        PERFORM oms_defer('the change nears a threshold');
    END IF;
END $$;

-- Reserve warehouse stock (no lot) for every line, or defer.
CREATE OR REPLACE FUNCTION oms_reserve(
    p_tenant bigint, p_key text, p_hash text,
    p_warehouses text[], p_skus text[], p_quantities bigint[],
    p_source_type text, p_source_id text, p_expires_at timestamptz, p_today date)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    claimed jsonb;
    warehouse_ids bigint[];
    codes text[];
    item_ids bigint[];
    skus text[];
    quantities bigint[];
    reservation_id bigint;
    records jsonb := '[]';
    outcome jsonb;
    level record;
BEGIN
    claimed := oms_claim(p_tenant, p_key, 'reserve', p_hash);
    IF claimed IS NOT NULL THEN
        RETURN jsonb_build_object('replay', claimed);
    END IF;
    SELECT array_agg(w.id ORDER BY u.n), array_agg(w.code ORDER BY u.n),
           array_agg(i.id ORDER BY u.n), array_agg(i.sku ORDER BY u.n),
           array_agg(u.q ORDER BY u.n)
    INTO warehouse_ids, codes, item_ids, skus, quantities
    FROM unnest(p_warehouses, p_skus, p_quantities) WITH ORDINALITY AS u(w, s, q, n)
    JOIN warehouses w ON w.tenant_id = p_tenant AND w.code = u.w AND w.active
    JOIN items i ON i.tenant_id = p_tenant AND i.sku = u.s
    WHERE u.q > 0;
    IF coalesce(cardinality(item_ids), 0) <> cardinality(p_skus) THEN
        PERFORM oms_defer('a line names an unknown or inactive code');
    END IF;
    FOR k IN 1 .. cardinality(item_ids) LOOP
        INSERT INTO reservations (tenant_id, warehouse_id, item_id, lot_id, requested, quantity,
                                  status, source_type, source_id, expires_at)
        VALUES (p_tenant, warehouse_ids[k], item_ids[k], NULL, quantities[k], quantities[k],
                'active', p_source_type, p_source_id, p_expires_at)
        RETURNING id INTO reservation_id;
        records := records || jsonb_build_object(
            'id', reservation_id, 'warehouse', codes[k], 'sku', skus[k], 'lot', NULL,
            'requested', quantities[k], 'quantity', quantities[k], 'status', 'active');
    END LOOP;
    outcome := jsonb_build_object('reservations', records, 'replayed', false);
    UPDATE idempotency_records SET result = outcome WHERE tenant_id = p_tenant AND key = p_key;
    -- the levels last, in lock order: their rows stay locked the shortest time
    FOR level IN
        SELECT u.w, u.i, sum(u.q)::bigint AS q
        FROM unnest(warehouse_ids, item_ids, quantities) AS u(w, i, q)
        GROUP BY u.w, u.i ORDER BY u.w, u.i
    LOOP
        PERFORM oms_move_reserved(level.w, level.i, level.q);
    END LOOP;
    -- under the level locks, as the reference checks: a lot past its expiry date
    -- and not marked yet may be counted in the level; the reference decides
    IF EXISTS (SELECT 1 FROM lots WHERE item_id = ANY(item_ids)
               AND status = 'available' AND expires_on <= p_today) THEN
        PERFORM oms_defer('an expired lot is not marked yet');
    END IF;
    RETURN jsonb_build_object('result', outcome);
END $$;

-- Release (part of) a reservation without a lot, or defer.
CREATE OR REPLACE FUNCTION oms_release(
    p_tenant bigint, p_key text, p_hash text,
    p_reservation bigint, p_quantity bigint, p_expired boolean)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    claimed jsonb;
    r reservations%ROWTYPE;
    amount bigint;
    outcome jsonb;
BEGIN
    claimed := oms_claim(p_tenant, p_key, 'release', p_hash);
    IF claimed IS NOT NULL THEN
        RETURN jsonb_build_object('replay', claimed);
    END IF;
    SELECT * INTO r FROM reservations WHERE id = p_reservation AND tenant_id = p_tenant
    FOR UPDATE;
    amount := coalesce(p_quantity, r.quantity);
    IF NOT FOUND OR r.lot_id IS NOT NULL OR amount <= 0 OR amount > r.quantity THEN
        PERFORM oms_defer('not a plain release');
    END IF;
    UPDATE reservations SET
        quantity = quantity - amount,
        status = CASE WHEN quantity = amount
                      THEN CASE WHEN p_expired THEN 'expired' ELSE 'released' END
                      ELSE status END
    WHERE id = r.id
    RETURNING * INTO r;
    outcome := jsonb_build_object('reservations', jsonb_build_array(jsonb_build_object(
        'id', r.id,
        'warehouse', (SELECT code FROM warehouses WHERE id = r.warehouse_id),
        'sku', (SELECT sku FROM items WHERE id = r.item_id),
        'lot', NULL, 'requested', r.requested, 'quantity', r.quantity, 'status', r.status)),
        'replayed', false);
    UPDATE idempotency_records SET result = outcome WHERE tenant_id = p_tenant AND key = p_key;
    PERFORM oms_move_reserved(r.warehouse_id, r.item_id, -amount);
    RETURN jsonb_build_object('result', outcome);
END $$;
"""

DROP = """
DROP FUNCTION IF EXISTS oms_release(bigint, text, text, bigint, bigint, boolean);
DROP FUNCTION IF EXISTS oms_reserve(bigint, text, text, text[], text[], bigint[], text, text,
                                    timestamptz, date);
DROP FUNCTION IF EXISTS oms_move_reserved(bigint, bigint, bigint);
DROP FUNCTION IF EXISTS oms_clear_of_thresholds(bigint, bigint, bigint);
DROP FUNCTION IF EXISTS oms_claim(bigint, text, text, text);
DROP FUNCTION IF EXISTS oms_defer(text);
"""


def upgrade() -> None:
    op.execute(FUNCTIONS)


def downgrade() -> None:
    op.execute(DROP)
