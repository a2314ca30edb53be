"""The inventory events of a stock change: the thresholds `available` crossed at
each SKU and warehouse whose level the change updated (domain/change_events.py
`stock_crossings`). Computed from what the level's guarded update returns (the row
after the change, and the item's low-stock threshold in the same statement) and the
change's own deltas: no read of its own, and no write unless a line was crossed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain.allocation import available_to_promise
from domain.change_events import stock_crossings
from domain.events import NewEvent

if TYPE_CHECKING:
    from db.stock.change import LevelDelta

# Appended to the level's guarded update: the row after it, and the item's threshold.
LEVEL_RETURNING = (
    " RETURNING s.on_hand, s.reserved, s.allocated, s.held, s.in_transit, s.incoming,"
    " (SELECT low_stock_threshold FROM items WHERE id = s.item_id) AS threshold"
)


def _available(on_hand: int, reserved: int, allocated: int, held: int) -> int:
    return available_to_promise(on_hand=on_hand, reserved=reserved, allocated=allocated, held=held)


def level_events(
    tenant_id: int, warehouse: str, sku: str, after: Any, delta: LevelDelta
) -> list[NewEvent]:
    """The events of one level's update: `after` is the row its statement returned,
    `delta` what the change added, so the row before is after - delta."""
    before = _available(
        after.on_hand - delta.on_hand,
        after.reserved - delta.reserved,
        after.allocated - delta.allocated,
        after.held - delta.held,
    )
    now = _available(after.on_hand, after.reserved, after.allocated, after.held)
    crossed = stock_crossings(before, now, threshold=int(after.threshold))
    if not crossed:
        return []
    data = {
        "warehouse": warehouse,
        "sku": sku,
        "on_hand": after.on_hand,
        "reserved": after.reserved,
        "allocated": after.allocated,
        "held": after.held,
        "in_transit": after.in_transit,
        "incoming": after.incoming,
        "available": now,
        "low_stock_threshold": int(after.threshold),
    }
    subject = f"{warehouse}/{sku}"
    return [NewEvent(tenant_id=tenant_id, type=t, subject_id=subject, data=data) for t in crossed]
