"""stock functions: a plain adjustment (and scrap) as one server-side call

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02

An adjustment of stock without a lot or serials at an active location of an
active warehouse runs inside PostgreSQL as one function call, as a receipt and a
move do (migrations 0019, 0020): it claims the key (a record: replay it), looks
the place and the item up, appends the ledger row (into the location when the
stock rises, out of it when it falls, with the reason), keeps its result with the
key, then moves the level under its guard (what stays on hand covers what is
reserved, allocated and held) and the balance (a fall never below what is
allocated there; a rise makes the balance when missing) — what the reference
(db/stock/on_hand.py `reference_adjust`) writes, in its lock order. Anything else
(a delta of zero, an unknown or inactive place, an unknown item or one that tracks
lots, expiry or serials, no level, a level or balance short of free stock, a change
of `available` that nears 0 or the low-stock threshold: its events are the
reference's to write) raises SQLSTATE OMS01 before anything is kept, and the
reference runs instead and decides (and words a shortage).
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

FUNCTIONS = r"""
CREATE OR REPLACE FUNCTION oms_adjust(
    p_tenant bigint, p_key text, p_hash text, p_warehouse text, p_location text,
    p_sku text, p_delta bigint, p_type text, p_reason text, p_actor text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    claimed jsonb;
    v_warehouse bigint;
    v_location bigint;
    v_item bigint;
    quantity bigint := abs(p_delta);
    rises boolean := p_delta > 0;
    movement_id bigint;
    outcome jsonb;
    after record;
BEGIN
    claimed := oms_claim(p_tenant, p_key, 'adjust', p_hash);
    IF claimed IS NOT NULL THEN
        RETURN jsonb_build_object('replay', claimed);
    END IF;
    SELECT w.id, l.id INTO v_warehouse, v_location
    FROM warehouses w JOIN locations l ON l.warehouse_id = w.id AND l.code = p_location
    WHERE w.tenant_id = p_tenant AND w.code = p_warehouse AND w.active AND l.active;
    SELECT i.id INTO v_item FROM items i
    WHERE i.tenant_id = p_tenant AND i.sku = p_sku
      AND NOT (i.track_lot OR i.track_expiry OR i.track_serial);
    IF v_location IS NULL OR v_item IS NULL OR coalesce(p_delta, 0) = 0 THEN
        PERFORM oms_defer('not a plain adjustment');
    END IF;
    INSERT INTO movements (tenant_id, type, warehouse_id, item_id, lot_id, serial_id, quantity,
                           from_location_id, to_location_id, reference_type, reference_id,
                           actor, reason, idempotency_key, seq)
    VALUES (p_tenant, p_type, v_warehouse, v_item, NULL, NULL, quantity,
            CASE WHEN rises THEN NULL ELSE v_location END,
            CASE WHEN rises THEN v_location END,
            'manual', NULL, p_actor, p_reason, p_key, 1)
    RETURNING id INTO movement_id;
    outcome := jsonb_build_object('movements', jsonb_build_array(jsonb_build_object(
        'id', movement_id, 'type', p_type, 'sku', p_sku, 'quantity', quantity,
        'from_location', CASE WHEN rises THEN NULL ELSE p_location END,
        'to_location', CASE WHEN rises THEN p_location END, 'lot', NULL, 'serial', NULL)),
        'replayed', false);
    PERFORM oms_keep(p_tenant, p_key, outcome);
    -- the level first (lock order), under its guard
    UPDATE stock_levels AS s SET on_hand = s.on_hand + p_delta
    WHERE s.warehouse_id = v_warehouse AND s.item_id = v_item
      AND s.reserved + s.allocated + s.held <= s.on_hand + p_delta
    RETURNING s.on_hand - s.reserved - s.allocated - s.held AS available,
              (SELECT low_stock_threshold FROM items WHERE id = s.item_id) AS threshold
    INTO after;
    IF NOT FOUND THEN
        PERFORM oms_defer('no level, or it is short of free stock');
    END IF;
    IF NOT oms_clear_of_thresholds(after.available - p_delta, after.available,
                                   after.threshold) THEN
        PERFORM oms_defer('the change nears a threshold');
    END IF;
    -- then the balance
    IF rises THEN
        PERFORM oms_stock_arrives(p_tenant, v_warehouse, v_location, v_item, quantity);
    ELSE
        UPDATE balances AS b SET on_hand = b.on_hand + p_delta
        WHERE b.location_id = v_location AND b.item_id = v_item
          AND b.lot_id IS NULL AND b.serial_id IS NULL
          AND b.on_hand + p_delta >= b.allocated;
        IF NOT FOUND THEN
            PERFORM oms_defer('the location is short of free stock');
        END IF;
    END IF;
    RETURN jsonb_build_object('result', outcome);
END $$;
"""


def upgrade() -> None:
    op.execute(FUNCTIONS)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION IF EXISTS oms_adjust(bigint, text, text, text, text, text, bigint, text,"
        " text, text)"
    )
