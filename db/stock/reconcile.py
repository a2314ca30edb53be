"""Checks of DESIGN §5 invariants 1-3 over the stored stock, for one tenant or all
(3 includes: each level's in_transit equals what its transfers have outstanding
from it, and its incoming what its transfers and open purchase orders have
outstanding to it), and of invariant 5 where an order closed: nothing is still
reserved or allocated for it.
`oms reconcile`, the tests and (later) a scheduled workflow use it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.orders import FINAL_STATUSES


@dataclass(frozen=True)
class Violation:
    invariant: int
    what: str
    where: str
    expected: int
    actual: int

    def __str__(self) -> str:
        return (
            f"invariant {self.invariant}: {self.what} at {self.where}: "
            f"expected {self.expected}, found {self.actual}"
        )


_TENANT = "(CAST(:t AS bigint) IS NULL OR {alias}.tenant_id = :t)"

# Each query yields rows (what, where, expected, actual) that break an invariant.
_CHECKS: list[tuple[int, str]] = [
    (
        1,
        f"""
        SELECT 'balance over-promised or negative', 'balance ' || b.id,
               b.on_hand, b.allocated
        FROM balances b WHERE {_TENANT.format(alias="b")}
          AND (b.on_hand < 0 OR b.allocated < 0 OR b.allocated > b.on_hand)
        UNION ALL
        SELECT 'stock level over-promised or negative',
               'warehouse ' || s.warehouse_id || ' item ' || s.item_id,
               s.on_hand, s.reserved + s.allocated + s.held
        FROM stock_levels s WHERE {_TENANT.format(alias="s")}
          AND (s.on_hand < 0 OR s.reserved < 0 OR s.allocated < 0 OR s.in_transit < 0
               OR s.incoming < 0 OR s.held < 0 OR s.reserved + s.allocated + s.held > s.on_hand)
        UNION ALL
        SELECT 'lot level over-promised or negative',
               'warehouse ' || l.warehouse_id || ' lot ' || l.lot_id,
               l.on_hand, l.reserved + l.allocated
        FROM lot_levels l WHERE {_TENANT.format(alias="l")}
          AND (l.on_hand < 0 OR l.reserved < 0 OR l.allocated < 0
               OR l.reserved + l.allocated > l.on_hand)
        """,
    ),
    (
        2,
        f"""
        WITH moves AS (
            SELECT m.tenant_id, m.to_location_id AS location_id, m.item_id,
                   coalesce(m.lot_id, 0) AS lot, coalesce(m.serial_id, 0) AS serial, m.quantity
            FROM movements m WHERE m.to_location_id IS NOT NULL AND {_TENANT.format(alias="m")}
            UNION ALL
            SELECT m.tenant_id, m.from_location_id, m.item_id, coalesce(m.lot_id, 0),
                   coalesce(m.serial_id, 0), -m.quantity
            FROM movements m WHERE m.from_location_id IS NOT NULL AND {_TENANT.format(alias="m")}
        ), net AS (
            SELECT location_id, item_id, lot, serial, sum(quantity) AS quantity
            FROM moves GROUP BY 1, 2, 3, 4
        ), held AS (
            SELECT b.location_id, b.item_id, coalesce(b.lot_id, 0) AS lot,
                   coalesce(b.serial_id, 0) AS serial, b.on_hand
            FROM balances b WHERE {_TENANT.format(alias="b")}
        )
        SELECT 'balance on_hand differs from its ledger',
               'location ' || coalesce(h.location_id, n.location_id) || ' item '
               || coalesce(h.item_id, n.item_id) || ' lot ' || coalesce(h.lot, n.lot)
               || ' serial ' || coalesce(h.serial, n.serial),
               coalesce(n.quantity, 0), coalesce(h.on_hand, 0)
        FROM held h FULL JOIN net n
          ON (h.location_id, h.item_id, h.lot, h.serial)
           = (n.location_id, n.item_id, n.lot, n.serial)
        WHERE coalesce(h.on_hand, 0) <> coalesce(n.quantity, 0)
        """,
    ),
    (
        2,
        f"""
        WITH sums AS (
            SELECT b.warehouse_id, b.item_id, sum(b.on_hand) AS on_hand,
                   sum(b.allocated) AS allocated
            FROM balances b WHERE {_TENANT.format(alias="b")} GROUP BY 1, 2
        ), levels AS (
            SELECT * FROM stock_levels s WHERE {_TENANT.format(alias="s")}
        )
        SELECT 'stock level on_hand differs from its balances',
               'warehouse ' || coalesce(s.warehouse_id, b.warehouse_id) || ' item '
               || coalesce(s.item_id, b.item_id),
               coalesce(b.on_hand, 0), coalesce(s.on_hand, 0)
        FROM levels s FULL JOIN sums b
          ON (s.warehouse_id, s.item_id) = (b.warehouse_id, b.item_id)
        WHERE coalesce(s.on_hand, 0) <> coalesce(b.on_hand, 0)
        """,
    ),
    (
        2,
        f"""
        WITH sums AS (
            SELECT b.warehouse_id, b.item_id, sum(b.on_hand) AS held
            FROM balances b JOIN lots l ON l.id = b.lot_id
            WHERE l.status <> 'available' AND {_TENANT.format(alias="b")} GROUP BY 1, 2
        ), levels AS (
            SELECT * FROM stock_levels s WHERE {_TENANT.format(alias="s")}
        )
        SELECT 'stock level held differs from its balances in lots not available',
               'warehouse ' || coalesce(s.warehouse_id, b.warehouse_id) || ' item '
               || coalesce(s.item_id, b.item_id),
               coalesce(b.held, 0), coalesce(s.held, 0)
        FROM levels s FULL JOIN sums b
          ON (s.warehouse_id, s.item_id) = (b.warehouse_id, b.item_id)
        WHERE coalesce(s.held, 0) <> coalesce(b.held, 0)
        """,
    ),
    (
        2,
        f"""
        WITH sums AS (
            SELECT b.warehouse_id, b.lot_id, sum(b.on_hand) AS on_hand
            FROM balances b WHERE b.lot_id IS NOT NULL AND {_TENANT.format(alias="b")}
            GROUP BY 1, 2
        ), levels AS (
            SELECT * FROM lot_levels l WHERE {_TENANT.format(alias="l")}
        )
        SELECT 'lot level on_hand differs from its balances',
               'warehouse ' || coalesce(l.warehouse_id, b.warehouse_id) || ' lot '
               || coalesce(l.lot_id, b.lot_id),
               coalesce(b.on_hand, 0), coalesce(l.on_hand, 0)
        FROM levels l FULL JOIN sums b ON (l.warehouse_id, l.lot_id) = (b.warehouse_id, b.lot_id)
        WHERE coalesce(l.on_hand, 0) <> coalesce(b.on_hand, 0)
        """,
    ),
    (
        3,
        f"""
        WITH reserved AS (
            SELECT r.warehouse_id, r.item_id, sum(r.quantity) AS quantity
            FROM reservations r WHERE r.quantity > 0 AND {_TENANT.format(alias="r")}
            GROUP BY 1, 2
        ), allocated AS (
            SELECT b.warehouse_id, b.item_id, sum(b.allocated) AS quantity
            FROM balances b WHERE {_TENANT.format(alias="b")} GROUP BY 1, 2
        )
        SELECT 'reserved differs from open reservations',
               'warehouse ' || s.warehouse_id || ' item ' || s.item_id,
               coalesce(r.quantity, 0), s.reserved
        FROM stock_levels s LEFT JOIN reserved r USING (warehouse_id, item_id)
        WHERE {_TENANT.format(alias="s")} AND s.reserved <> coalesce(r.quantity, 0)
        UNION ALL
        SELECT 'reservations without a stock level', 'warehouse ' || r.warehouse_id
               || ' item ' || r.item_id, r.quantity, 0
        FROM reserved r LEFT JOIN stock_levels s USING (warehouse_id, item_id)
        WHERE s.item_id IS NULL
        UNION ALL
        SELECT 'allocated differs from its balances',
               'warehouse ' || s.warehouse_id || ' item ' || s.item_id,
               coalesce(a.quantity, 0), s.allocated
        FROM stock_levels s LEFT JOIN allocated a USING (warehouse_id, item_id)
        WHERE {_TENANT.format(alias="s")} AND s.allocated <> coalesce(a.quantity, 0)
        """,
    ),
    (
        3,
        f"""
        WITH pinned AS (
            SELECT r.warehouse_id, r.lot_id, sum(r.quantity) AS quantity
            FROM reservations r
            WHERE r.quantity > 0 AND r.lot_id IS NOT NULL AND {_TENANT.format(alias="r")}
            GROUP BY 1, 2
        ), allocated AS (
            SELECT b.warehouse_id, b.lot_id, sum(b.allocated) AS quantity
            FROM balances b WHERE b.lot_id IS NOT NULL AND {_TENANT.format(alias="b")}
            GROUP BY 1, 2
        )
        SELECT 'lot reserved differs from reservations pinned to it',
               'warehouse ' || l.warehouse_id || ' lot ' || l.lot_id,
               coalesce(p.quantity, 0), l.reserved
        FROM lot_levels l LEFT JOIN pinned p USING (warehouse_id, lot_id)
        WHERE {_TENANT.format(alias="l")} AND l.reserved <> coalesce(p.quantity, 0)
        UNION ALL
        SELECT 'lot allocated differs from its balances',
               'warehouse ' || l.warehouse_id || ' lot ' || l.lot_id,
               coalesce(a.quantity, 0), l.allocated
        FROM lot_levels l LEFT JOIN allocated a USING (warehouse_id, lot_id)
        WHERE {_TENANT.format(alias="l")} AND l.allocated <> coalesce(a.quantity, 0)
        """,
    ),
    (
        3,
        f"""
        WITH outbound AS (
            SELECT t.from_warehouse_id AS warehouse_id, ts.item_id,
                   sum(ts.shipped - ts.received - ts.written_off) AS quantity
            FROM transfer_stock ts JOIN transfers t ON t.id = ts.transfer_id
            WHERE {_TENANT.format(alias="ts")} GROUP BY 1, 2
        ), inbound AS (
            SELECT warehouse_id, item_id, sum(quantity) AS quantity FROM (
                SELECT t.to_warehouse_id AS warehouse_id, ts.item_id,
                       ts.shipped - ts.received - ts.written_off AS quantity
                FROM transfer_stock ts JOIN transfers t ON t.id = ts.transfer_id
                WHERE {_TENANT.format(alias="ts")}
                UNION ALL
                SELECT po.warehouse_id, l.item_id, greatest(l.ordered - l.received, 0)
                FROM purchase_order_lines l JOIN purchase_orders po ON po.id = l.purchase_order_id
                WHERE po.status = 'open' AND {_TENANT.format(alias="po")}
            ) outstanding GROUP BY 1, 2
        ), levels AS (
            SELECT * FROM stock_levels s WHERE {_TENANT.format(alias="s")}
        )
        SELECT 'in_transit differs from transfers outstanding from it',
               'warehouse ' || coalesce(s.warehouse_id, o.warehouse_id) || ' item '
               || coalesce(s.item_id, o.item_id),
               coalesce(o.quantity, 0), coalesce(s.in_transit, 0)
        FROM levels s FULL JOIN outbound o USING (warehouse_id, item_id)
        WHERE coalesce(s.in_transit, 0) <> coalesce(o.quantity, 0)
        UNION ALL
        SELECT 'incoming differs from transfers and open purchase orders outstanding to it',
               'warehouse ' || coalesce(s.warehouse_id, i.warehouse_id) || ' item '
               || coalesce(s.item_id, i.item_id),
               coalesce(i.quantity, 0), coalesce(s.incoming, 0)
        FROM levels s FULL JOIN inbound i USING (warehouse_id, item_id)
        WHERE coalesce(s.incoming, 0) <> coalesce(i.quantity, 0)
        """,
    ),
    (
        3,
        f"""
        WITH open AS (
            SELECT a.balance_id, sum(a.quantity) AS quantity
            FROM allocations a WHERE a.quantity > 0 AND {_TENANT.format(alias="a")}
            GROUP BY 1
        )
        SELECT 'balance allocated differs from its open allocations', 'balance ' || b.id,
               coalesce(o.quantity, 0), b.allocated
        FROM balances b LEFT JOIN open o ON o.balance_id = b.id
        WHERE {_TENANT.format(alias="b")} AND b.allocated <> coalesce(o.quantity, 0)
        """,
    ),
    (
        3,
        f"""
        WITH travelling AS (
            SELECT transfer_id, item_id, coalesce(lot_id, 0) AS lot, count(*) AS n
            FROM transfer_serials t WHERE t.status = 'in_transit' AND {_TENANT.format(alias="t")}
            GROUP BY 1, 2, 3
        )
        SELECT 'serials in transit differ from what the transfer has outstanding',
               'transfer ' || ts.transfer_id || ' item ' || ts.item_id,
               ts.shipped - ts.received - ts.written_off, coalesce(v.n, 0)
        FROM transfer_stock ts JOIN items i ON i.id = ts.item_id AND i.track_serial
        LEFT JOIN travelling v ON (v.transfer_id, v.item_id, v.lot)
                                = (ts.transfer_id, ts.item_id, coalesce(ts.lot_id, 0))
        WHERE {_TENANT.format(alias="ts")}
          AND ts.shipped - ts.received - ts.written_off <> coalesce(v.n, 0)
        """,
    ),
]


# Invariant 5 at an order's close: a closed order (shipped, canceled, expired,
# rejected, returned) has nothing open, so the books hold no stock for it. An order's
# reservations and allocations name it as `<order number>/<line id>` (both may hold
# a '/'): each split of the reference at a '/' is looked up by the orders' and the
# lines' keys, so only a real line of a real order matches; a reference an open
# order's line spells too (order `A` line `B/C`, order `A/B` line `C`) may be that
# order's, and is not reported. One row per document, so the alert names what to
# release (POST /v1/inventory/reservations/{id}/release).
_CLOSED = ", ".join(f"'{status.value}'" for status in sorted(FINAL_STATUSES))
_CHECKS.append(
    (
        5,
        f"""
        WITH held AS (
            SELECT r.tenant_id, 'reservation ' || r.id AS document, r.source_id AS ref,
                   r.quantity
            FROM reservations r
            WHERE r.quantity > 0 AND r.source_type = 'order' AND {_TENANT.format(alias="r")}
            UNION ALL
            SELECT a.tenant_id, 'allocation ' || a.id, a.reference_id, a.quantity
            FROM allocations a
            WHERE a.quantity > 0 AND a.reference_type = 'order' AND {_TENANT.format(alias="a")}
        )
        SELECT DISTINCT ON (h.document) 'stock still promised to a closed order',
               h.document || ' (order ' || o.order_number || ' line ' || l.line_id || ', '
               || o.status || ')',
               0, h.quantity
        FROM held h
        CROSS JOIN LATERAL generate_series(2, length(h.ref) - 1) AS p(n)
        JOIN orders o ON o.tenant_id = h.tenant_id AND o.order_number = left(h.ref, p.n - 1)
        JOIN order_lines l ON l.order_id = o.id AND l.line_id = substr(h.ref, p.n + 1)
        WHERE substr(h.ref, p.n, 1) = '/' AND o.status IN ({_CLOSED})
          AND NOT EXISTS (
              SELECT 1 FROM generate_series(2, length(h.ref) - 1) AS q(n)
              JOIN orders x ON x.tenant_id = h.tenant_id
                           AND x.order_number = left(h.ref, q.n - 1)
              JOIN order_lines y ON y.order_id = x.id AND y.line_id = substr(h.ref, q.n + 1)
              WHERE substr(h.ref, q.n, 1) = '/' AND x.status NOT IN ({_CLOSED}))
        ORDER BY h.document, o.order_number
        """,
    )
)


async def find_violations(session: AsyncSession, tenant_id: int | None = None) -> list[Violation]:
    """Every violation of invariants 1-3 and 5 (an empty list when the books are right).
    Run it in one REPEATABLE READ transaction for a consistent picture."""
    found: list[Violation] = []
    for invariant, query in _CHECKS:
        rows = await session.execute(text(query), {"t": tenant_id})
        found += [Violation(invariant, str(w), str(p), int(e), int(a)) for w, p, e, a in rows]
    return found
