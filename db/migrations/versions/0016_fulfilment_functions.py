"""fulfilment functions: pick, ship and put back as one server-side call each

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

The common case of a pick, a ship and a put back (stock without a lot or a
serial) runs inside PostgreSQL as one function call, as reserve and release do
(migration 0015): it claims the idempotency key, locks the reservation then the
allocation, checks what the reference implementation (db/stock/fulfilling.py)
checks, appends the ledger row, and changes the level (locked first) and the
balances (in location order: the BalanceKey order without lot or serial) under
the same guards. Anything else (an unknown, closed or foreign allocation, a bad
quantity, a lot or a serial, an unknown or inactive place, a change that would
cross an inventory event's line) raises SQLSTATE OMS01 before anything is kept,
and the reference runs instead and decides.
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

FUNCTIONS = r"""
-- The allocation, locked after its reservation (documents lock in table order),
-- when it is in `p_status` with something open and its stock has no lot or serial;
-- with its place (codes of its warehouse, location and item). Defers otherwise.
CREATE OR REPLACE FUNCTION oms_locked_allocation(p_tenant bigint, p_allocation bigint,
                                                 p_status text)
RETURNS TABLE (a allocations, location_id bigint, warehouse text, warehouse_active boolean,
               location text, sku text)
LANGUAGE plpgsql AS $$
DECLARE
    reservation bigint;
BEGIN
    SELECT x.reservation_id INTO reservation FROM allocations x
    WHERE x.id = p_allocation AND x.tenant_id = p_tenant;
    IF reservation IS NOT NULL THEN
        PERFORM 1 FROM reservations WHERE id = reservation FOR UPDATE;
    END IF;
    SELECT x.* INTO a FROM allocations x
    WHERE x.id = p_allocation AND x.tenant_id = p_tenant FOR UPDATE;
    IF a.id IS NULL OR a.status <> p_status OR a.quantity = 0 THEN
        PERFORM oms_defer('not an open allocation in that status');
    END IF;
    SELECT b.location_id, w.code, w.active, l.code, i.sku
    INTO location_id, warehouse, warehouse_active, location, sku
    FROM balances b
    JOIN warehouses w ON w.id = b.warehouse_id
    JOIN locations l ON l.id = b.location_id
    JOIN items i ON i.id = b.item_id
    WHERE b.id = a.balance_id AND b.lot_id IS NULL AND b.serial_id IS NULL;
    IF NOT FOUND THEN
        PERFORM oms_defer('stock with a lot or a serial');
    END IF;
    RETURN NEXT;
END $$;

-- Another active location of the allocation's (active) warehouse, or defer.
CREATE OR REPLACE FUNCTION oms_destination(p_warehouse bigint, p_active boolean,
                                           p_code text, p_source bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    found_id bigint;
BEGIN
    SELECT id INTO found_id FROM locations
    WHERE warehouse_id = p_warehouse AND code = p_code AND active;
    IF NOT p_active OR found_id IS NULL OR found_id = p_source THEN
        PERFORM oms_defer('not a place to move the stock to');
    END IF;
    RETURN found_id;
END $$;

-- Append the operation's ledger row number p_seq for an allocation's stock.
CREATE OR REPLACE FUNCTION oms_book(p_key text, p_seq int, p_type text, a allocations,
                                    p_quantity bigint, p_from bigint, p_to bigint,
                                    p_actor text)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO movements (tenant_id, type, warehouse_id, item_id, lot_id, serial_id, quantity,
                           from_location_id, to_location_id, reference_type, reference_id,
                           actor, reason, idempotency_key, seq)
    VALUES (a.tenant_id, p_type, a.warehouse_id, a.item_id, NULL, NULL, p_quantity, p_from, p_to,
            a.reference_type, a.reference_id, p_actor, NULL, p_key, p_seq)
$$;

-- The level's on_hand and allocated move under the level's guard; defers when the
-- guard refuses or `available` moves near a line an inventory event marks.
CREATE OR REPLACE FUNCTION oms_move_allocated(p_warehouse bigint, p_item bigint,
                                              p_on_hand bigint, p_allocated bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    after record;
BEGIN
    UPDATE stock_levels AS s
    SET on_hand = s.on_hand + p_on_hand, allocated = s.allocated + p_allocated
    WHERE s.warehouse_id = p_warehouse AND s.item_id = p_item
      AND s.on_hand + p_on_hand >= 0 AND s.allocated + p_allocated >= 0
      AND s.reserved + s.allocated + p_allocated + s.held <= s.on_hand + p_on_hand
    RETURNING s.on_hand - s.reserved - s.allocated - s.held AS available,
              (SELECT low_stock_threshold FROM items WHERE id = s.item_id) AS threshold
    INTO after;
    IF NOT FOUND THEN
        PERFORM oms_defer('the level refuses the change');
    END IF;
    IF p_on_hand <> p_allocated AND NOT oms_clear_of_thresholds(
            after.available - p_on_hand + p_allocated, after.available, after.threshold) THEN
        PERFORM oms_defer('the change nears a threshold');
    END IF;
END $$;

-- A balance without lot or serial takes (on_hand, allocated) deltas under its
-- guard (made when missing and the deltas could make one); its id, or defer.
CREATE OR REPLACE FUNCTION oms_move_balance(a allocations, p_location bigint,
                                            p_on_hand bigint, p_allocated bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    balance_id bigint;
BEGIN
    IF p_on_hand >= 0 AND p_allocated >= 0 AND p_allocated <= p_on_hand THEN
        INSERT INTO balances AS b (tenant_id, warehouse_id, location_id, item_id, lot_id,
                                   serial_id, on_hand, allocated)
        VALUES (a.tenant_id, a.warehouse_id, p_location, a.item_id, NULL, NULL, p_on_hand,
                p_allocated)
        ON CONFLICT (location_id, item_id, coalesce(lot_id, 0), coalesce(serial_id, 0))
        DO UPDATE SET on_hand = b.on_hand + EXCLUDED.on_hand,
                      allocated = b.allocated + EXCLUDED.allocated
        WHERE b.on_hand + EXCLUDED.on_hand >= 0 AND b.allocated + EXCLUDED.allocated >= 0
          AND b.allocated + EXCLUDED.allocated <= b.on_hand + EXCLUDED.on_hand
        RETURNING id INTO balance_id;
    ELSE
        UPDATE balances AS b
        SET on_hand = b.on_hand + p_on_hand, allocated = b.allocated + p_allocated
        WHERE b.location_id = p_location AND b.item_id = a.item_id
          AND coalesce(b.lot_id, 0) = 0 AND coalesce(b.serial_id, 0) = 0
          AND b.on_hand + p_on_hand >= 0 AND b.allocated + p_allocated >= 0
          AND b.allocated + p_allocated <= b.on_hand + p_on_hand
        RETURNING id INTO balance_id;
    END IF;
    IF balance_id IS NULL THEN
        PERFORM oms_defer('a balance refuses the change');
    END IF;
    RETURN balance_id;
END $$;

-- Move stock between two balances of the allocation's item (the level locked
-- first, the balances in location order); the target balance's id.
CREATE OR REPLACE FUNCTION oms_move_between(a allocations, p_source bigint, p_target bigint,
                                            p_quantity bigint, p_allocated_to_target bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    target_id bigint;
BEGIN
    IF p_allocated_to_target = 0 THEN
        PERFORM oms_move_allocated(a.warehouse_id, a.item_id, 0, -p_quantity);
    ELSE
        -- no total changes: the level row is still the first lock of every operation
        PERFORM 1 FROM stock_levels WHERE warehouse_id = a.warehouse_id AND item_id = a.item_id
        FOR UPDATE;
        IF NOT FOUND THEN
            PERFORM oms_defer('no level to lock');
        END IF;
    END IF;
    IF p_source < p_target THEN
        PERFORM oms_move_balance(a, p_source, -p_quantity, -p_quantity);
    END IF;
    target_id := oms_move_balance(a, p_target, p_quantity, p_allocated_to_target);
    IF p_source > p_target THEN
        PERFORM oms_move_balance(a, p_source, -p_quantity, -p_quantity);
    END IF;
    RETURN target_id;
END $$;

-- An allocation as the operations' results name it (AllocationRecord).
CREATE OR REPLACE FUNCTION oms_allocation_record(a allocations, p_warehouse text,
                                                 p_location text, p_sku text, p_quantity bigint)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('id', a.id, 'reservation_id', a.reservation_id,
                              'warehouse', p_warehouse, 'location', p_location, 'sku', p_sku,
                              'lot', NULL, 'serial', NULL, 'quantity', p_quantity,
                              'status', a.status)
$$;

-- Store the result the key replays and hand it back.
CREATE OR REPLACE FUNCTION oms_keep(p_tenant bigint, p_key text, p_outcome jsonb)
RETURNS jsonb LANGUAGE sql AS $$
    UPDATE idempotency_records SET result = p_outcome WHERE tenant_id = p_tenant AND key = p_key
    RETURNING jsonb_build_object('result', p_outcome)
$$;

-- Pick (part of) an allocation to another location of its warehouse, or defer.
CREATE OR REPLACE FUNCTION oms_pick(p_tenant bigint, p_key text, p_hash text, p_actor text,
                                    p_allocation bigint, p_quantity bigint, p_to text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    claimed jsonb;
    doc record;
    a allocations;
    target bigint;
    target_balance bigint;
    picked allocations;
BEGIN
    claimed := oms_claim(p_tenant, p_key, 'pick', p_hash);
    IF claimed IS NOT NULL THEN
        RETURN jsonb_build_object('replay', claimed);
    END IF;
    SELECT * INTO doc FROM oms_locked_allocation(p_tenant, p_allocation, 'allocated');
    a := doc.a;
    IF NOT (0 < p_quantity AND p_quantity <= a.quantity) THEN
        PERFORM oms_defer('not a quantity to pick');
    END IF;
    target := oms_destination(a.warehouse_id, doc.warehouse_active, p_to, doc.location_id);
    PERFORM oms_book(p_key, 1, 'pick', a, p_quantity, doc.location_id, target, p_actor);
    target_balance := oms_move_between(a, doc.location_id, target, p_quantity, p_quantity);
    UPDATE allocations SET quantity = quantity - p_quantity,
        status = CASE WHEN quantity = p_quantity THEN 'picked' ELSE status END
    WHERE id = a.id RETURNING * INTO a;
    INSERT INTO allocations (tenant_id, reservation_id, balance_id, warehouse_id, item_id,
                             quantity, status, reference_type, reference_id)
    VALUES (a.tenant_id, a.reservation_id, target_balance, a.warehouse_id, a.item_id,
            p_quantity, 'picked', a.reference_type, a.reference_id)
    RETURNING * INTO picked;
    RETURN oms_keep(p_tenant, p_key, jsonb_build_object(
        'reservation', NULL,
        'allocations', jsonb_build_array(
            oms_allocation_record(picked, doc.warehouse, p_to, doc.sku, p_quantity),
            oms_allocation_record(a, doc.warehouse, doc.location, doc.sku, a.quantity)),
        'shortfall', a.quantity, 'replayed', false));
END $$;

-- Ship a picked allocation (all of it leaves the books), or defer.
CREATE OR REPLACE FUNCTION oms_ship(p_tenant bigint, p_key text, p_hash text, p_actor text,
                                    p_allocation bigint)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    claimed jsonb;
    doc record;
    a allocations;
    quantity bigint;
    outcome jsonb;
BEGIN
    claimed := oms_claim(p_tenant, p_key, 'ship', p_hash);
    IF claimed IS NOT NULL THEN
        RETURN jsonb_build_object('replay', claimed);
    END IF;
    SELECT * INTO doc FROM oms_locked_allocation(p_tenant, p_allocation, 'picked');
    a := doc.a;
    quantity := a.quantity;
    PERFORM oms_book(p_key, 1, 'ship', a, quantity, doc.location_id, NULL, p_actor);
    UPDATE allocations SET quantity = 0, status = 'shipped' WHERE id = a.id RETURNING * INTO a;
    outcome := oms_keep(p_tenant, p_key, jsonb_build_object(
        'reservation', NULL,
        'allocations', jsonb_build_array(
            oms_allocation_record(a, doc.warehouse, doc.location, doc.sku, quantity)),
        'shortfall', 0, 'replayed', false));
    -- the stock rows last, in lock order: they stay locked the shortest time
    PERFORM oms_move_allocated(a.warehouse_id, a.item_id, -quantity, -quantity);
    PERFORM oms_move_balance(a, doc.location_id, -quantity, -quantity);
    RETURN outcome;
END $$;

-- Put a picked allocation back to another location as free stock, or defer.
CREATE OR REPLACE FUNCTION oms_put_back(p_tenant bigint, p_key text, p_hash text, p_actor text,
                                        p_allocation bigint, p_to text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    claimed jsonb;
    doc record;
    a allocations;
    target bigint;
    quantity bigint;
    outcome jsonb;
BEGIN
    claimed := oms_claim(p_tenant, p_key, 'put_back', p_hash);
    IF claimed IS NOT NULL THEN
        RETURN jsonb_build_object('replay', claimed);
    END IF;
    SELECT * INTO doc FROM oms_locked_allocation(p_tenant, p_allocation, 'picked');
    a := doc.a;
    target := oms_destination(a.warehouse_id, doc.warehouse_active, p_to, doc.location_id);
    quantity := a.quantity;
    PERFORM oms_book(p_key, 1, 'put_back', a, quantity, doc.location_id, target, p_actor);
    UPDATE allocations SET quantity = 0, status = 'released' WHERE id = a.id RETURNING * INTO a;
    outcome := oms_keep(p_tenant, p_key, jsonb_build_object(
        'reservation', NULL,
        'allocations', jsonb_build_array(
            oms_allocation_record(a, doc.warehouse, doc.location, doc.sku, quantity)),
        'shortfall', 0, 'replayed', false));
    PERFORM oms_move_between(a, doc.location_id, target, quantity, 0);
    RETURN outcome;
END $$;
"""

DROP = """
DROP FUNCTION IF EXISTS oms_put_back(bigint, text, text, text, bigint, text);
DROP FUNCTION IF EXISTS oms_ship(bigint, text, text, text, bigint);
DROP FUNCTION IF EXISTS oms_pick(bigint, text, text, text, bigint, bigint, text);
DROP FUNCTION IF EXISTS oms_keep(bigint, text, jsonb);
DROP FUNCTION IF EXISTS oms_allocation_record(allocations, text, text, text, bigint);
DROP FUNCTION IF EXISTS oms_move_between(allocations, bigint, bigint, bigint, bigint);
DROP FUNCTION IF EXISTS oms_move_balance(allocations, bigint, bigint, bigint);
DROP FUNCTION IF EXISTS oms_move_allocated(bigint, bigint, bigint, bigint);
DROP FUNCTION IF EXISTS oms_book(text, int, text, allocations, bigint, bigint, bigint, text);
DROP FUNCTION IF EXISTS oms_destination(bigint, boolean, text, bigint);
DROP FUNCTION IF EXISTS oms_locked_allocation(bigint, bigint, text);
"""


def upgrade() -> None:
    op.execute(FUNCTIONS)


def downgrade() -> None:
    op.execute(DROP)
