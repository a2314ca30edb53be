"""stock functions: a plain receipt as one server-side call

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02

A receipt of stock without a lot, an expiry or serials runs inside PostgreSQL as
one function call, as pick and ship do (migration 0016): it claims the key (a
record: replay it), looks the warehouse, location and items up, appends a ledger
row per line, keeps its result with the key, then moves the levels (in lock
order, each existing and with stock available before: stock that rises raises
one event only, back in stock, from nothing available — domain/change_events.py)
and the balances (made when missing) — what the reference (db/stock/on_hand.py) writes, in
its lock order. The key is claimed first, as the reference claims it, not
recorded at the end as reserve's is (0018): a receipt's ledger rows are unique by
key and line, so a call that wrote them first and a twin that claimed the key
first would wait on each other. Anything else (no line, a quantity not above
zero, an unknown or inactive place, an unknown item or one that tracks lots,
expiry or serials, a level not there yet or with nothing available) raises
SQLSTATE OMS01 before anything is kept, and the reference runs instead and decides.
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

FUNCTIONS = r"""
-- Stock without a lot or serial arrives at a place: its balance, made when missing.
CREATE OR REPLACE FUNCTION oms_stock_arrives(p_tenant bigint, p_warehouse bigint,
                                             p_location bigint, p_item bigint,
                                             p_quantity bigint)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO balances AS b (tenant_id, warehouse_id, location_id, item_id, lot_id,
                               serial_id, on_hand, allocated)
    VALUES (p_tenant, p_warehouse, p_location, p_item, NULL, NULL, p_quantity, 0)
    ON CONFLICT (location_id, item_id, coalesce(lot_id, 0), coalesce(serial_id, 0))
    DO UPDATE SET on_hand = b.on_hand + EXCLUDED.on_hand
$$;

CREATE OR REPLACE FUNCTION oms_receive(
    p_tenant bigint, p_key text, p_hash text, p_warehouse text, p_location text,
    p_skus text[], p_quantities bigint[], p_type text, p_reference_type text,
    p_reference_id text, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    claimed jsonb;
    v_warehouse bigint;
    v_location bigint;
    item_ids bigint[];
    skus text[];
    movement_id bigint;
    records jsonb := '[]';
    outcome jsonb;
    level record;
    available bigint;
BEGIN
    claimed := oms_claim(p_tenant, p_key, 'receive', p_hash);
    IF claimed IS NOT NULL THEN
        RETURN jsonb_build_object('replay', claimed);
    END IF;
    SELECT w.id, l.id INTO v_warehouse, v_location
    FROM warehouses w JOIN locations l ON l.warehouse_id = w.id AND l.code = p_location
    WHERE w.tenant_id = p_tenant AND w.code = p_warehouse AND w.active AND l.active;
    IF v_location IS NULL OR coalesce(cardinality(p_skus), 0) = 0
       OR EXISTS (SELECT 1 FROM unnest(p_quantities) AS q WHERE q IS NULL OR q <= 0) THEN
        PERFORM oms_defer('not a plain receipt');
    END IF;
    SELECT array_agg(i.id ORDER BY u.n), array_agg(i.sku ORDER BY u.n)
    INTO item_ids, skus
    FROM unnest(p_skus) WITH ORDINALITY AS u(s, n)
    JOIN items i ON i.tenant_id = p_tenant AND i.sku = u.s
    WHERE NOT (i.track_lot OR i.track_expiry OR i.track_serial);
    IF coalesce(cardinality(item_ids), 0) <> cardinality(p_skus) THEN
        PERFORM oms_defer('an unknown item, or one with lots, expiry or serials');
    END IF;
    FOR k IN 1 .. cardinality(item_ids) LOOP
        INSERT INTO movements (tenant_id, type, warehouse_id, item_id, lot_id, serial_id,
                               quantity, from_location_id, to_location_id, reference_type,
                               reference_id, actor, reason, idempotency_key, seq)
        VALUES (p_tenant, p_type, v_warehouse, item_ids[k], NULL, NULL, p_quantities[k], NULL,
                v_location, p_reference_type, p_reference_id, p_actor, NULL, p_key, k)
        RETURNING id INTO movement_id;
        records := records || jsonb_build_object(
            'id', movement_id, 'type', p_type, 'sku', skus[k], 'quantity', p_quantities[k],
            'from_location', NULL, 'to_location', p_location, 'lot', NULL, 'serial', NULL);
    END LOOP;
    outcome := jsonb_build_object('movements', records, 'replayed', false);
    PERFORM oms_keep(p_tenant, p_key, outcome);
    -- the levels in lock order, then the balances (one warehouse, one location:
    -- the balance key's order is the item's)
    FOR level IN
        SELECT u.i, sum(u.q)::bigint AS q
        FROM unnest(item_ids, p_quantities) AS u(i, q)
        GROUP BY u.i ORDER BY u.i
    LOOP
        UPDATE stock_levels AS s SET on_hand = s.on_hand + level.q
        WHERE s.warehouse_id = v_warehouse AND s.item_id = level.i
        RETURNING s.on_hand - s.reserved - s.allocated - s.held INTO available;
        IF NOT FOUND THEN
            PERFORM oms_defer('no level yet');
        END IF;
        -- stock that rises makes one event only: back in stock, from nothing available
        IF available - level.q <= 0 THEN
            PERFORM oms_defer('back in stock: an event');
        END IF;
    END LOOP;
    FOR level IN
        SELECT u.i, sum(u.q)::bigint AS q
        FROM unnest(item_ids, p_quantities) AS u(i, q)
        GROUP BY u.i ORDER BY u.i
    LOOP
        PERFORM oms_stock_arrives(p_tenant, v_warehouse, v_location, level.i, level.q);
    END LOOP;
    RETURN jsonb_build_object('result', outcome);
END $$;
"""


def upgrade() -> None:
    op.execute(FUNCTIONS)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION IF EXISTS oms_receive(bigint, text, text, text, text, text[], bigint[],"
        " text, text, text, text);"
        " DROP FUNCTION IF EXISTS oms_stock_arrives(bigint, bigint, bigint, bigint, bigint)"
    )
