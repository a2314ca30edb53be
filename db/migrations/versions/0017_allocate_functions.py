"""stock functions: allocate and deallocate as one server-side call each

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02

As migration 0015 does for reserve and release: the common case runs inside
PostgreSQL as one function call (one round trip, its own transaction) under the
reference implementation's lock order (the reservation, the allocation, the level
row, then balances by location and serial) and guards; anything else raises
SQLSTATE OMS01 before anything is kept and the caller runs the reference
(db/stock/allocating.py, db/stock/promising.py), which decides and words it.

Allocate: the reference chooses stock with domain/allocation.py `choose_stock`,
which stays the one statement of the rule. This function repeats only the part of
it that holds for balances without a lot: they are ordered by the same key (FEFO:
expiry date, no lot counting as the latest date; then received; LIFO: newest
received first; ties by balance id), usable when their place is pickable, and
taken greedily. The first candidate in that order that has a lot (its status as of
today, its expiry, the lot's stock reserved for others) before the quantity is
covered makes it defer, as does a reservation pinned to a lot: lots stay the
reference's. A partial allocation (`shortfall`) is handled: it only leaves part
reserved. `available` does not change (reserved becomes allocated), so no
inventory event can fire; no ledger row either (stock does not move).

Deallocate: an allocation at a balance without a lot, back to its open
reservation (`available` unchanged) or freed (`available` rises: it defers when
that could cross a threshold an inventory event marks).
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

FUNCTIONS = r"""
-- A reservation's record as the result reports it (a reservation without a lot).
CREATE OR REPLACE FUNCTION oms_reservation_record(r reservations) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', r.id,
        'warehouse', (SELECT code FROM warehouses WHERE id = r.warehouse_id),
        'sku', (SELECT sku FROM items WHERE id = r.item_id),
        'lot', NULL, 'requested', r.requested, 'quantity', r.quantity, 'status', r.status)
$$;

-- Allocate (part of) a reservation without a lot at balances without a lot, or defer.
CREATE OR REPLACE FUNCTION oms_allocate(
    p_tenant bigint, p_key text, p_hash text,
    p_reservation bigint, p_quantity bigint, p_reference_type text, p_reference_id text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    claimed jsonb;
    r reservations%ROWTYPE;
    amount bigint;
    remaining bigint;
    take bigint;
    strategy text;
    warehouse text;
    sku text;
    c record;
    pick record;
    allocation_id bigint;
    balance_ids bigint[] := '{}';
    location_ids bigint[] := '{}';
    serial_ids bigint[] := '{}';
    takes bigint[] := '{}';
    records jsonb := '[]';
    outcome jsonb;
BEGIN
    claimed := oms_claim(p_tenant, p_key, 'allocate', p_hash);
    IF claimed IS NOT NULL THEN
        RETURN jsonb_build_object('replay', claimed);
    END IF;
    SELECT * INTO r FROM reservations WHERE id = p_reservation AND tenant_id = p_tenant
    FOR UPDATE;
    amount := coalesce(p_quantity, r.quantity);
    IF NOT FOUND OR r.lot_id IS NOT NULL OR amount <= 0 OR amount > r.quantity THEN
        PERFORM oms_defer('not a plain allocation');
    END IF;
    -- the balances of an item and warehouse change only under its level lock
    PERFORM 1 FROM stock_levels WHERE warehouse_id = r.warehouse_id AND item_id = r.item_id
    FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        PERFORM oms_defer('no level yet');
    END IF;
    SELECT i.default_strategy, i.sku, w.code INTO strategy, sku, warehouse
    FROM items i, warehouses w WHERE i.id = r.item_id AND w.id = r.warehouse_id;
    remaining := amount;
    FOR c IN
        SELECT b.id, b.location_id, loc.code AS location, b.lot_id, b.serial_id,
               s.serial_number, b.on_hand - b.allocated AS free,
               (loc.pickable AND loc.active AND loc.type <> 'staging') AS pickable
        FROM balances b
        JOIN locations loc ON loc.id = b.location_id
        LEFT JOIN lots l ON l.id = b.lot_id
        LEFT JOIN serials s ON s.id = b.serial_id
        WHERE b.warehouse_id = r.warehouse_id AND b.item_id = r.item_id
          AND b.on_hand > b.allocated
        ORDER BY
            CASE WHEN strategy = 'fefo' THEN coalesce(l.expires_on, DATE '9999-12-31') END,
            CASE WHEN strategy <> 'lifo' THEN coalesce(l.received_at, b.received_at) END,
            CASE WHEN strategy = 'lifo' THEN coalesce(l.received_at, b.received_at) END DESC,
            b.id
    LOOP
        EXIT WHEN remaining = 0;
        IF c.lot_id IS NOT NULL THEN
            PERFORM oms_defer('a lot is a candidate');
        END IF;
        CONTINUE WHEN NOT c.pickable;
        take := least(c.free, remaining);
        remaining := remaining - take;
        INSERT INTO allocations (tenant_id, reservation_id, balance_id, warehouse_id, item_id,
                                 quantity, status, reference_type, reference_id)
        VALUES (p_tenant, r.id, c.id, r.warehouse_id, r.item_id, take, 'allocated',
                coalesce(nullif(p_reference_type, ''), r.source_type),
                coalesce(nullif(p_reference_id, ''), r.source_id))
        RETURNING id INTO allocation_id;
        balance_ids := balance_ids || c.id;
        location_ids := location_ids || c.location_id;
        serial_ids := serial_ids || coalesce(c.serial_id, 0);
        takes := takes || take;
        records := records || jsonb_build_object(
            'id', allocation_id, 'reservation_id', r.id, 'warehouse', warehouse,
            'location', c.location, 'sku', sku, 'lot', NULL, 'serial', c.serial_number,
            'quantity', take, 'status', 'allocated');
    END LOOP;
    IF remaining < amount THEN
        UPDATE reservations SET
            quantity = quantity - (amount - remaining),
            status = CASE WHEN quantity = amount - remaining THEN 'allocated' ELSE status END
        WHERE id = r.id
        RETURNING * INTO r;
    END IF;
    outcome := jsonb_build_object('reservation', oms_reservation_record(r),
                                  'allocations', records, 'shortfall', remaining,
                                  'replayed', false);
    UPDATE idempotency_records SET result = outcome WHERE tenant_id = p_tenant AND key = p_key;
    IF remaining < amount THEN
        -- reserved becomes allocated: `available` stays, no event can fire
        UPDATE stock_levels SET reserved = reserved - (amount - remaining),
                                allocated = allocated + (amount - remaining)
        WHERE warehouse_id = r.warehouse_id AND item_id = r.item_id
          AND reserved - (amount - remaining) >= 0
          AND reserved + allocated + held <= on_hand;
        IF NOT FOUND THEN
            PERFORM oms_defer('the level refuses the change');
        END IF;
        -- balances in lock order: by location, then serial
        FOR pick IN
            SELECT * FROM unnest(balance_ids, location_ids, serial_ids, takes) AS u(id, l, s, q)
            ORDER BY u.l, u.s
        LOOP
            UPDATE balances SET allocated = allocated + pick.q
            WHERE id = pick.id AND allocated + pick.q <= on_hand;
            IF NOT FOUND THEN
                PERFORM oms_defer('a balance refuses the change');
            END IF;
        END LOOP;
    END IF;
    RETURN jsonb_build_object('result', outcome);
END $$;

-- Give (part of) an allocation at a balance without a lot back, or defer.
CREATE OR REPLACE FUNCTION oms_deallocate(
    p_tenant bigint, p_key text, p_hash text, p_allocation bigint, p_quantity bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    claimed jsonb;
    owner bigint;  -- the allocation's reservation
    r reservations%ROWTYPE;
    a allocations%ROWTYPE;
    b record;
    amount bigint;
    back boolean;
    outcome jsonb;
    after record;
BEGIN
    claimed := oms_claim(p_tenant, p_key, 'deallocate', p_hash);
    IF claimed IS NOT NULL THEN
        RETURN jsonb_build_object('replay', claimed);
    END IF;
    -- documents lock in table order: the reservation, then the allocation
    SELECT x.reservation_id INTO owner FROM allocations x
    WHERE x.id = p_allocation AND x.tenant_id = p_tenant;
    IF owner IS NOT NULL THEN
        SELECT * INTO r FROM reservations WHERE id = owner AND tenant_id = p_tenant
        FOR UPDATE;
        IF NOT FOUND OR r.lot_id IS NOT NULL THEN
            PERFORM oms_defer('not a plain reservation');
        END IF;
    END IF;
    SELECT * INTO a FROM allocations WHERE id = p_allocation AND tenant_id = p_tenant
    FOR UPDATE;
    amount := coalesce(p_quantity, a.quantity);
    IF NOT FOUND OR a.status <> 'allocated' OR amount <= 0 OR amount > a.quantity THEN
        PERFORM oms_defer('not a plain deallocation');
    END IF;
    SELECT x.lot_id, w.code AS warehouse, loc.code AS location, i.sku, s.serial_number
    INTO b
    FROM balances x
    JOIN warehouses w ON w.id = x.warehouse_id
    JOIN locations loc ON loc.id = x.location_id
    JOIN items i ON i.id = x.item_id
    LEFT JOIN serials s ON s.id = x.serial_id
    WHERE x.id = a.balance_id;
    IF b.lot_id IS NOT NULL THEN
        PERFORM oms_defer('a lot');
    END IF;
    UPDATE allocations SET
        quantity = quantity - amount,
        status = CASE WHEN quantity = amount THEN 'released' ELSE status END
    WHERE id = a.id
    RETURNING * INTO a;
    -- a released or expired reservation takes nothing back: the stock becomes free
    back := owner IS NOT NULL AND r.status IN ('active', 'allocated');
    IF back THEN
        UPDATE reservations SET quantity = quantity + amount, status = 'active'
        WHERE id = r.id
        RETURNING * INTO r;
    END IF;
    outcome := jsonb_build_object(
        'reservation', CASE WHEN owner IS NULL THEN NULL
                            ELSE oms_reservation_record(r) END,
        'allocations', jsonb_build_array(jsonb_build_object(
            'id', a.id, 'reservation_id', a.reservation_id, 'warehouse', b.warehouse,
            'location', b.location, 'sku', b.sku, 'lot', NULL, 'serial', b.serial_number,
            'quantity', a.quantity, 'status', a.status)),
        'shortfall', 0, 'replayed', false);
    UPDATE idempotency_records SET result = outcome WHERE tenant_id = p_tenant AND key = p_key;
    UPDATE stock_levels AS s SET
        allocated = s.allocated - amount,
        reserved = s.reserved + CASE WHEN back THEN amount ELSE 0 END
    WHERE s.warehouse_id = a.warehouse_id AND s.item_id = a.item_id
      AND s.allocated - amount >= 0
      AND s.reserved + s.allocated + s.held + CASE WHEN back THEN 0 ELSE -amount END <= s.on_hand
    RETURNING s.on_hand - s.reserved - s.allocated - s.held AS available,
              (SELECT low_stock_threshold FROM items WHERE id = s.item_id) AS threshold
    INTO after;
    IF NOT FOUND THEN
        PERFORM oms_defer('the level refuses the change');
    END IF;
    IF NOT back AND NOT oms_clear_of_thresholds(after.available - amount, after.available,
                                                after.threshold) THEN
        PERFORM oms_defer('the change nears a threshold');
    END IF;
    UPDATE balances SET allocated = allocated - amount
    WHERE id = a.balance_id AND allocated - amount >= 0;
    IF NOT FOUND THEN
        PERFORM oms_defer('the balance refuses the change');
    END IF;
    RETURN jsonb_build_object('result', outcome);
END $$;
"""

DROP = """
DROP FUNCTION IF EXISTS oms_deallocate(bigint, text, text, bigint, bigint);
DROP FUNCTION IF EXISTS oms_allocate(bigint, text, text, bigint, bigint, text, text);
DROP FUNCTION IF EXISTS oms_reservation_record(reservations);
"""


def upgrade() -> None:
    op.execute(FUNCTIONS)


def downgrade() -> None:
    op.execute(DROP)
