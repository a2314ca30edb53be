"""What an order's stock steps read before their one-call operations
(activities/orders.py): one statement per step, through the call pool
(db/call_reads.py).

* `line_reads`: for every line of a reservation round, its key's recorded result
  (a retry replays the first plan instead of planning again), what each active
  warehouse could promise of its SKU, and the item's backorder policy, limit and
  what other orders have waiting of it.
* `allocation_places`: the warehouse of each reservation, where that warehouse
  stages picked goods, and whether its `setup` alert for staging is open (so the
  alert is written only when there is something to raise or resolve).
* `held_for_order`: an order's compensation reads what the books hold for its lines
  (allocations not yet picked, open reservations), known to its run or not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.alerts import STAGING_ALERT_PREFIX
from db.call_reads import read
from db.stock.availability import LevelStock
from domain.allocation import BackorderPolicy, WarehouseStock

# The free stock of lots past expiry the schedule has not marked yet counts as held
# (db/stock/availability.py); `due` says an item may have some: then its stock is
# read again the long way (db/orders.py `reservable`). Most items have none.
_LINES = """
SELECT r.result, i.backorder_policy, i.backorder_limit,
  (SELECT coalesce(sum(l.backordered), 0) FROM order_lines l
     JOIN orders o ON o.id = l.order_id
     WHERE l.item_id = i.id AND l.backordered > 0 AND o.order_number <> %s::text),
  EXISTS (SELECT 1 FROM lots WHERE item_id = i.id AND status = 'available'
     AND expires_on <= %s::date),
  (SELECT coalesce(json_agg(json_build_array(w.id, w.code, w.priority, s.on_hand,
       s.reserved, s.allocated, s.held)), '[]')
     FROM stock_levels s JOIN warehouses w ON w.id = s.warehouse_id
     WHERE s.item_id = i.id AND w.active AND r.key IS NULL)
FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS line(key, sku, n)
LEFT JOIN idempotency_records r ON r.tenant_id = %s::bigint AND r.key = line.key
LEFT JOIN items i ON i.tenant_id = %s::bigint AND i.sku = line.sku
ORDER BY line.n
"""


@dataclass(frozen=True, kw_only=True)
class LineRead:
    """What a line's reservation is planned on."""

    recorded: dict[str, Any] | None  # its key's result, when an operation committed one
    stock: list[WarehouseStock] | None  # None: to be read the long way (lots past expiry)
    policy: BackorderPolicy | None  # None: no such item
    limit: int | None
    waiting: int  # backordered by other orders


async def line_reads(
    sessions: async_sessionmaker[AsyncSession],
    tenant_id: int,
    order_number: str,
    keys: list[str],
    skus: list[str],
) -> list[LineRead]:
    """One read per line (keys[n] and skus[n] are line n's)."""
    today = datetime.now(UTC).date()
    rows = await read(sessions, _LINES, (order_number, today, keys, skus, tenant_id, tenant_id))
    return [_line(*row) for row in rows]


def _line(
    result: dict[str, Any] | None,
    policy: str | None,
    limit: int | None,
    waiting: int,
    due: bool,
    levels: list[list[Any]],
) -> LineRead:
    stock = [
        WarehouseStock(
            warehouse_id,
            code,
            priority,
            LevelStock(
                on_hand=on_hand, reserved=reserved, allocated=allocated, held=held
            ).available,
        )
        for warehouse_id, code, priority, on_hand, reserved, allocated, held in levels
    ]
    return LineRead(
        recorded=result,
        stock=None if due else stock,
        policy=None if policy is None else BackorderPolicy(policy),
        limit=limit,
        waiting=int(waiting),
    )


_PLACES = """
SELECT r.id, w.code, staging.code, EXISTS (SELECT 1 FROM alerts a
    WHERE a.tenant_id = r.tenant_id AND a.key = %s::text || w.code AND a.resolved_at IS NULL)
FROM reservations r JOIN warehouses w ON w.id = r.warehouse_id
LEFT JOIN LATERAL (SELECT l.code FROM locations l WHERE l.warehouse_id = w.id
    AND l.type = 'staging' AND l.active ORDER BY l.code LIMIT 1) staging ON true
WHERE r.tenant_id = %s::bigint AND r.id = ANY(%s::bigint[])
"""


@dataclass(frozen=True, kw_only=True)
class AllocationPlaces:
    warehouses: dict[int, str]  # reservation id -> its warehouse's code
    staging: dict[str, str]  # warehouse code -> its first active staging location
    alerted: set[str]  # warehouses whose staging alert is open

    @property
    def unstaged(self) -> list[str]:
        """The reservations' warehouses that cannot stage picked goods."""
        return sorted(set(self.warehouses.values()) - self.staging.keys())


async def allocation_places(
    sessions: async_sessionmaker[AsyncSession], tenant_id: int, reservation_ids: Sequence[int]
) -> AllocationPlaces:
    rows = await read(sessions, _PLACES, (STAGING_ALERT_PREFIX, tenant_id, list(reservation_ids)))
    return AllocationPlaces(
        warehouses={int(rid): code for rid, code, _, _ in rows},
        staging={code: place for _, code, place, _ in rows if place is not None},
        alerted={code for _, code, _, is_open in rows if is_open},
    )


# What the books hold for an order's lines, by their reference (`<order>/<line>`),
# whatever the run knows: allocations not yet picked, then open reservations. Order
# numbers and line ids may hold a '/', so one reference can spell a line of another
# order too (order `A` line `B/C`, order `A/B` line `C`): such a reference is left
# out, it may be the other order's (the run gives back what its book knows of it).
_ANOTHER_ORDERS = """
NOT EXISTS (
    SELECT 1 FROM generate_series(2, length({ref}) - 1) AS p(n)
    JOIN orders o ON o.tenant_id = %(t)s AND o.order_number = left({ref}, p.n - 1)
    JOIN order_lines l ON l.order_id = o.id AND l.line_id = substr({ref}, p.n + 1)
    WHERE substr({ref}, p.n, 1) = '/' AND o.order_number <> %(n)s)
"""
_OPEN = {
    "allocations": f"""
SELECT a.id FROM allocations a
WHERE a.tenant_id = %(t)s AND a.reference_type = 'order' AND a.reference_id = ANY(%(refs)s)
  AND a.status = 'allocated' AND a.quantity > 0
  AND {_ANOTHER_ORDERS.format(ref="a.reference_id")}
ORDER BY a.id
""",
    "reservations": f"""
SELECT r.id FROM reservations r
WHERE r.tenant_id = %(t)s AND r.source_type = 'order' AND r.source_id = ANY(%(refs)s)
  AND r.quantity > 0
  AND {_ANOTHER_ORDERS.format(ref="r.source_id")}
ORDER BY r.id
""",
}


async def held_for_order(
    sessions: async_sessionmaker[AsyncSession],
    documents: Literal["allocations", "reservations"],
    tenant_id: int,
    order_number: str,
    line_ids: Sequence[str],
) -> list[int]:
    """The ids of the order lines' allocations not yet picked, or reservations with
    something still reserved, oldest first."""
    references = [f"{order_number}/{line_id}" for line_id in line_ids]
    params = {"t": tenant_id, "n": order_number, "refs": references}
    return [row[0] for row in await read(sessions, _OPEN[documents], params)]
