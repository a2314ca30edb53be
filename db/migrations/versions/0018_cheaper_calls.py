"""stock functions: reserve and release with fewer writes per call

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02

The functions of migration 0015 claimed the idempotency key with a placeholder
row, then wrote the result over it: two writes of the record (and, the row being
new in the transaction, a second foreign-key check that locks the tenant row).
Here the key is read first (a record: replay it, or IdempotencyConflict, as
before) and the record is written once, with its result, before the levels (they
stay locked the shortest time). A concurrent twin under the same key that
committed first makes that insert find the key taken: the call raises a
serialization failure, so nothing of it is kept, and the caller tries again
(db/stock/calls.py) and replays the twin's result. One effect per key, as before.

Also per call: release locks its reservation with its update (guarded by the
quantity it read: a concurrent change defers to the reference) instead of a
SELECT FOR UPDATE before it, and the level's low-stock threshold comes with the
item read the call makes anyway instead of a subselect under the level's lock.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

FUNCTIONS = r"""
-- The record a key has, as the caller replays it; NULL when none is committed.
CREATE OR REPLACE FUNCTION oms_recorded(p_tenant bigint, p_key text)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('operation', operation, 'request_hash', request_hash,
                              'result', result)
    FROM idempotency_records WHERE tenant_id = p_tenant AND key = p_key
$$;

-- Record the key's result. A twin under the same key that committed meanwhile
-- (or waits here to commit first) wins: this call is undone whole and retried,
-- and the retry replays the twin's result.
CREATE OR REPLACE FUNCTION oms_record(p_tenant bigint, p_key text, p_operation text,
                                      p_hash text, p_outcome jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO idempotency_records (tenant_id, key, operation, request_hash, result)
    VALUES (p_tenant, p_key, p_operation, p_hash, p_outcome)
    ON CONFLICT (tenant_id, key) DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'serialization_failure',
            MESSAGE = 'a concurrent call recorded the idempotency key first';
    END IF;
END $$;

-- The level's reserved quantity moves by p_delta under the level's guard; defers
-- when the guard refuses (a shortage) or the move nears a threshold.
CREATE OR REPLACE FUNCTION oms_move_reserved(p_warehouse bigint, p_item bigint, p_delta bigint,
                                             p_threshold bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    available bigint;
BEGIN
    UPDATE stock_levels AS s SET reserved = s.reserved + p_delta
    WHERE s.warehouse_id = p_warehouse AND s.item_id = p_item
      AND s.reserved + p_delta >= 0
      AND s.reserved + p_delta + s.allocated + s.held <= s.on_hand
    RETURNING s.on_hand - s.reserved - s.allocated - s.held INTO available;
    IF NOT FOUND THEN
        PERFORM oms_defer('the level refuses the change');
    END IF;
    IF NOT oms_clear_of_thresholds(available + p_delta, available, p_threshold) THEN
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
    thresholds bigint[];
    reservation_id bigint;
    records jsonb := '[]';
    outcome jsonb;
    level record;
BEGIN
    claimed := oms_recorded(p_tenant, p_key);
    IF claimed IS NOT NULL THEN
        RETURN jsonb_build_object('replay', claimed);
    END IF;
    SELECT array_agg(w.id ORDER BY u.n), array_agg(w.code ORDER BY u.n),
           array_agg(i.id ORDER BY u.n), array_agg(i.sku ORDER BY u.n),
           array_agg(u.q ORDER BY u.n), array_agg(i.low_stock_threshold ORDER BY u.n)
    INTO warehouse_ids, codes, item_ids, skus, quantities, thresholds
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
    PERFORM oms_record(p_tenant, p_key, 'reserve', p_hash, outcome);
    -- the levels last, in lock order: their rows stay locked the shortest time
    FOR level IN
        SELECT u.w, u.i, sum(u.q)::bigint AS q, min(u.t) AS t
        FROM unnest(warehouse_ids, item_ids, quantities, thresholds) AS u(w, i, q, t)
        GROUP BY u.w, u.i ORDER BY u.w, u.i
    LOOP
        PERFORM oms_move_reserved(level.w, level.i, level.q, level.t);
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
    seen record;
    r record;
    amount bigint;
    outcome jsonb;
BEGIN
    claimed := oms_recorded(p_tenant, p_key);
    IF claimed IS NOT NULL THEN
        RETURN jsonb_build_object('replay', claimed);
    END IF;
    -- by its id alone: a plan may not take the tenant's index and read all of its rows
    SELECT x.tenant_id, x.quantity, x.lot_id, x.warehouse_id, x.item_id, w.code, i.sku,
           i.low_stock_threshold
    INTO seen
    FROM reservations x
    JOIN warehouses w ON w.id = x.warehouse_id
    JOIN items i ON i.id = x.item_id
    WHERE x.id = p_reservation;
    amount := coalesce(p_quantity, seen.quantity);
    IF seen.tenant_id IS DISTINCT FROM p_tenant OR seen.lot_id IS NOT NULL OR amount <= 0
       OR amount > seen.quantity THEN
        PERFORM oms_defer('not a plain release');
    END IF;
    -- locked by its update, as it was read (the decision above holds) or not at all
    UPDATE reservations SET
        quantity = quantity - amount,
        status = CASE WHEN quantity = amount
                      THEN CASE WHEN p_expired THEN 'expired' ELSE 'released' END
                      ELSE status END
    WHERE id = p_reservation AND quantity = seen.quantity AND lot_id IS NULL
    RETURNING id, requested, quantity, status INTO r;
    IF NOT FOUND THEN
        PERFORM oms_defer('the reservation changed meanwhile');
    END IF;
    outcome := jsonb_build_object('reservations', jsonb_build_array(jsonb_build_object(
        'id', r.id, 'warehouse', seen.code, 'sku', seen.sku, 'lot', NULL,
        'requested', r.requested, 'quantity', r.quantity, 'status', r.status)),
        'replayed', false);
    PERFORM oms_record(p_tenant, p_key, 'release', p_hash, outcome);
    PERFORM oms_move_reserved(seen.warehouse_id, seen.item_id, -amount, seen.low_stock_threshold);
    RETURN jsonb_build_object('result', outcome);
END $$;

DROP FUNCTION IF EXISTS oms_move_reserved(bigint, bigint, bigint);
"""

DROP = """
DROP FUNCTION IF EXISTS oms_move_reserved(bigint, bigint, bigint, bigint);
DROP FUNCTION IF EXISTS oms_record(bigint, text, text, text, jsonb);
DROP FUNCTION IF EXISTS oms_recorded(bigint, text);
"""


def _previous(name: str) -> str:
    """The FUNCTIONS of an earlier migration of this folder (what a downgrade restores)."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.FUNCTIONS)


def upgrade() -> None:
    op.execute(FUNCTIONS)


def downgrade() -> None:
    op.execute(_previous("0015_stock_functions"))
    op.execute(DROP)
