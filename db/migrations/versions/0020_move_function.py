"""stock functions: a plain move as one server-side call

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02

A move of free stock without a lot or serials between two active locations of an
active warehouse runs inside PostgreSQL as one function call, as a receipt does
(migration 0019): it claims the key (a record: replay it), looks the places and
the item up, appends the ledger row (a putaway from a dock, else a move), keeps its
result with the key, then locks the level (its totals do not change: no event) and
moves the balances in location order, the source's under its guard (never below
what is allocated there), the target's made when missing (`oms_stock_arrives`, 0019) — what the reference
(db/stock/on_hand.py `move`) writes, in its lock order. Anything else (a quantity
not above zero, the same location twice, an unknown or inactive place, an unknown
item or one that tracks lots, expiry or serials, no level, a source short of free
stock) raises SQLSTATE OMS01 before anything is kept, and the reference runs
instead and decides (and words a shortage).
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION oms_move(
    p_tenant bigint, p_key text, p_hash text, p_warehouse text, p_from text, p_to text,
    p_sku text, p_quantity bigint, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    claimed jsonb;
    v_warehouse bigint;
    v_source bigint;
    v_source_type text;
    v_target bigint;
    v_item bigint;
    v_type text;
    movement_id bigint;
    outcome jsonb;
    place record;
BEGIN
    claimed := oms_claim(p_tenant, p_key, 'move', p_hash);
    IF claimed IS NOT NULL THEN
        RETURN jsonb_build_object('replay', claimed);
    END IF;
    SELECT w.id, s.id, s.type, t.id INTO v_warehouse, v_source, v_source_type, v_target
    FROM warehouses w
    JOIN locations s ON s.warehouse_id = w.id AND s.code = p_from AND s.active
    JOIN locations t ON t.warehouse_id = w.id AND t.code = p_to AND t.active
    WHERE w.tenant_id = p_tenant AND w.code = p_warehouse AND w.active;
    SELECT i.id INTO v_item FROM items i
    WHERE i.tenant_id = p_tenant AND i.sku = p_sku
      AND NOT (i.track_lot OR i.track_expiry OR i.track_serial);
    IF v_source IS NULL OR v_item IS NULL OR v_source = v_target
       OR p_quantity IS NULL OR p_quantity <= 0 THEN
        PERFORM oms_defer('not a plain move');
    END IF;
    v_type := CASE WHEN v_source_type = 'dock' THEN 'putaway' ELSE 'move' END;
    INSERT INTO movements (tenant_id, type, warehouse_id, item_id, lot_id, serial_id, quantity,
                           from_location_id, to_location_id, reference_type, reference_id,
                           actor, reason, idempotency_key, seq)
    VALUES (p_tenant, v_type, v_warehouse, v_item, NULL, NULL, p_quantity, v_source, v_target,
            'manual', NULL, p_actor, NULL, p_key, 1)
    RETURNING id INTO movement_id;
    outcome := jsonb_build_object('movements', jsonb_build_array(jsonb_build_object(
        'id', movement_id, 'type', v_type, 'sku', p_sku, 'quantity', p_quantity,
        'from_location', p_from, 'to_location', p_to, 'lot', NULL, 'serial', NULL)),
        'replayed', false);
    PERFORM oms_keep(p_tenant, p_key, outcome);
    -- the level first (the one lock every change of this item here takes first)
    UPDATE stock_levels SET on_hand = on_hand
    WHERE warehouse_id = v_warehouse AND item_id = v_item;
    IF NOT FOUND THEN
        PERFORM oms_defer('no level');
    END IF;
    -- then the two balances in the balance key's order (the location's, here)
    FOR place IN
        SELECT * FROM (VALUES (v_source, -p_quantity), (v_target, p_quantity)) AS v(l, q)
        ORDER BY v.l
    LOOP
        IF place.q < 0 THEN
            UPDATE balances AS b SET on_hand = b.on_hand + place.q
            WHERE b.location_id = place.l AND b.item_id = v_item
              AND b.lot_id IS NULL AND b.serial_id IS NULL
              AND b.on_hand + place.q >= b.allocated;
            IF NOT FOUND THEN
                PERFORM oms_defer('the source is short of free stock');
            END IF;
        ELSE
            PERFORM oms_stock_arrives(p_tenant, v_warehouse, place.l, v_item, place.q);
        END IF;
    END LOOP;
    RETURN jsonb_build_object('result', outcome);
END $$;
"""


def upgrade() -> None:
    op.execute(FUNCTIONS)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION IF EXISTS oms_move(bigint, text, text, text, text, text, text, bigint,"
        " text)"
    )
