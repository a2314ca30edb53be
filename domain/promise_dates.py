"""Promise dates of backordered lines: when the stock and the supply on its way
(purchase orders, transfers) will cover each waiting line, after the lines served
before it.

The rule: lines are served in order (order priority, lowest number first, then the
oldest order; the backorder wake-up's order). Supply is used in date order; a line is
promised the date of the supply at which the cumulative supply first covers the
cumulative demand up to and including that line. Free stock counts now. Supply due in
the past (a late purchase order, an overdue transfer) counts at `now + late grace`: the
promise moves out while it is late, and again when it is rescheduled or received (a
receipt turns it into stock, which wakes the line).

Supply is pooled over the tenant's active warehouses: a waiting line can be allocated
from any of them (a preferred warehouse only comes first), so a PO to any active
warehouse may serve it. `covered_by` names the warehouse it comes to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class SupplyKind(StrEnum):
    STOCK = "stock"  # free now at a warehouse
    PURCHASE_ORDER = "purchase_order"
    TRANSFER = "transfer"


@dataclass(frozen=True, kw_only=True)
class SupplySource:
    kind: SupplyKind
    reference: str | None  # the PO or transfer number; None for stock
    warehouse: str


@dataclass(frozen=True, kw_only=True)
class Supply:
    """`quantity` (base units) arriving at `expected_at` from `source`."""

    quantity: int
    expected_at: datetime
    source: SupplySource


@dataclass(frozen=True, kw_only=True)
class Promise:
    """When a waiting line is expected to be served, and the supply that completes
    it; both None when nothing known covers it."""

    expected_at: datetime | None
    covered_by: SupplySource | None


NOT_COVERED = Promise(expected_at=None, covered_by=None)


def counts_at(expected_at: datetime, now: datetime, late_grace: timedelta) -> datetime:
    """When supply due at `expected_at` is counted on: a date already past (late)
    counts at `now + late_grace`."""
    return now + late_grace if expected_at < now else expected_at


def promise_dates(
    backordered: Sequence[int],
    supply: Sequence[Supply],
    *,
    now: datetime,
    late_grace: timedelta,
) -> list[Promise]:
    """A promise for each waiting line (`backordered`: base units, in serving order)."""
    counted = sorted(
        (
            (counts_at(s.expected_at, now, late_grace), s.source, s.quantity)
            for s in supply
            if s.quantity > 0
        ),
        key=lambda event: event[0],
    )
    promises: list[Promise] = []
    demand = supplied = 0
    next_event = 0
    promise = NOT_COVERED
    for quantity in backordered:
        demand += quantity
        while supplied < demand and next_event < len(counted):
            at, source, amount = counted[next_event]
            supplied += amount
            next_event += 1
            promise = Promise(expected_at=at, covered_by=source)
        promises.append(promise if supplied >= demand else NOT_COVERED)
    return promises
