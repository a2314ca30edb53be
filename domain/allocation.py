"""Which stock to promise: warehouse choice for reservations, lot and location
choice (FIFO / LIFO / FEFO) for allocations, and the backorder policy."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from domain.errors import InvalidInput


class Strategy(StrEnum):
    FIFO = "fifo"  # oldest received first
    LIFO = "lifo"  # newest received first
    FEFO = "fefo"  # earliest expiry first, then oldest received


class LotStatus(StrEnum):
    AVAILABLE = "available"
    HOLD = "hold"
    QUARANTINE = "quarantine"
    EXPIRED = "expired"


class BackorderPolicy(StrEnum):
    DENY = "deny"
    ALLOW = "allow"
    ALLOW_UNTIL = "allow_until"  # backorder until `backorder_limit` base units are waiting


@dataclass(frozen=True)
class Candidate:
    """Stock at one balance (location, lot, serial) that could be allocated."""

    balance_key: tuple[int, ...]
    free: int  # on_hand - allocated at this balance, in base units
    received_at: datetime
    lot_status: LotStatus = LotStatus.AVAILABLE
    expires_on: date | None = None
    pickable: bool = True
    lot_key: int = 0  # candidates of one lot share that lot's free quantity


@dataclass(frozen=True)
class Pick:
    candidate: Candidate
    quantity: int


def lot_status_on(status: LotStatus, expires_on: date | None, today: date) -> LotStatus:
    """A lot's status as of `today`: an available lot is expired from its expiry date
    on, whether or not the lot-expiry schedule has marked it yet. Every read, the
    allocation and the backorder sweep ask this, never the stored status alone."""
    if status is LotStatus.AVAILABLE and expires_on is not None and expires_on <= today:
        return LotStatus.EXPIRED
    return status


def usable(candidate: Candidate, today: date) -> bool:
    """Never allocate from held, quarantined or expired lots, or unpickable places."""
    return (
        candidate.free > 0
        and candidate.pickable
        and lot_status_on(candidate.lot_status, candidate.expires_on, today) is LotStatus.AVAILABLE
    )


def expired_unmarked(candidates: Iterable[Candidate], today: date) -> int:
    """Free stock in lots past their expiry date still marked available: not yet in
    a level's `held`, yet never promised."""
    return sum(
        c.free
        for c in candidates
        if c.lot_status is LotStatus.AVAILABLE
        and lot_status_on(c.lot_status, c.expires_on, today) is LotStatus.EXPIRED
    )


def can_wake_backorders(candidates: Iterable[Candidate], reserved: int, today: date) -> bool:
    """Stock worth waking a waiting order for: what allocation could take (`usable`)
    beyond what is already reserved at the warehouse. Stock on a dock, in a held or
    expired lot never wakes anyone: the order would reserve it and fail to allocate."""
    return sum(c.free for c in candidates if usable(c, today)) > reserved


def _sort_key(strategy: Strategy, candidate: Candidate) -> tuple[object, ...]:
    received = candidate.received_at.timestamp()
    if strategy is Strategy.LIFO:
        return (-received, candidate.balance_key)
    if strategy is Strategy.FEFO:
        expiry = candidate.expires_on or date.max
        return (expiry, received, candidate.balance_key)
    return (received, candidate.balance_key)


def choose_stock(
    candidates: Iterable[Candidate],
    quantity: int,
    strategy: Strategy,
    today: date,
    lot_free: Mapping[int, int] | None = None,
) -> tuple[list[Pick], int]:
    """Picks covering `quantity` in strategy order, and the quantity left uncovered.

    `lot_free` caps what may be taken from each lot (by `lot_key`) across its
    balances: stock of a lot that is reserved for someone else stays untouched."""
    caps = dict(lot_free or {})
    if quantity <= 0:
        raise InvalidInput("quantity to allocate must be positive", field="quantity")
    ordered = sorted(
        (c for c in candidates if usable(c, today)), key=lambda c: _sort_key(strategy, c)
    )
    picks: list[Pick] = []
    remaining = quantity
    for candidate in ordered:
        if remaining == 0:
            break
        take = min(candidate.free, remaining)
        if candidate.lot_key in caps:
            take = min(take, max(caps[candidate.lot_key], 0))
            caps[candidate.lot_key] -= take
        if take == 0:
            continue
        picks.append(Pick(candidate, take))
        remaining -= take
    return picks, remaining


def available_to_promise(*, on_hand: int, reserved: int, allocated: int, held: int) -> int:
    """What a warehouse can still promise of an item. `held` is on hand in lots not
    available, with the free stock of lots expired but not yet marked
    (`expired_unmarked`); promises made before a lot expired can exceed what is left,
    so this never goes below zero."""
    return max(0, on_hand - reserved - allocated - held)


@dataclass(frozen=True)
class WarehouseStock:
    warehouse_id: int
    code: str
    priority: int  # lower first
    available: int


def warehouse_order(
    warehouses: Iterable[WarehouseStock], preferred: str | None
) -> list[WarehouseStock]:
    """Preferred warehouse first, then by priority (then code, for a stable order)."""
    return sorted(warehouses, key=lambda w: (w.code != preferred, w.priority, w.code))


def plan_reservation(
    warehouses: Sequence[WarehouseStock],
    quantity: int,
    *,
    preferred: str | None = None,
    allow_split: bool = False,
) -> tuple[list[tuple[WarehouseStock, int]], int]:
    """Where to reserve `quantity`: [(warehouse, quantity)], shortfall.

    Without split, one warehouse serves the line: the first (in preference order)
    that has it all, else the one with the most (the rest is short). With split,
    warehouses are filled in preference order."""
    if quantity <= 0:
        raise InvalidInput("quantity to reserve must be positive", field="quantity")
    ordered = [w for w in warehouse_order(warehouses, preferred) if w.available > 0]
    if not ordered:
        return [], quantity
    if not allow_split:
        full = next((w for w in ordered if w.available >= quantity), None)
        if full is not None:
            return [(full, quantity)], 0
        best = max(ordered, key=lambda w: w.available)  # max keeps the first of equals
        return [(best, best.available)], quantity - best.available
    plan: list[tuple[WarehouseStock, int]] = []
    remaining = quantity
    for warehouse in ordered:
        take = min(warehouse.available, remaining)
        plan.append((warehouse, take))
        remaining -= take
        if remaining == 0:
            break
    return plan, remaining


def plan_reservations(
    lines: Sequence[tuple[str, int, Sequence[WarehouseStock]]],
    *,
    preferred: str | None = None,
    allow_split: bool = False,
) -> list[list[tuple[WarehouseStock, int]]]:
    """Where to reserve each of a step's lines (sku, quantity, the SKU's stock read
    once for the step): a line's plan is `plan_reservation`'s on what the lines
    before it of the same SKU left."""
    left: dict[str, list[WarehouseStock]] = {}
    plans = []
    for sku, quantity, stock in lines:
        here = left.get(sku, list(stock))
        plan, _ = plan_reservation(here, quantity, preferred=preferred, allow_split=allow_split)
        taken = {w.code: q for w, q in plan}
        left[sku] = [replace(w, available=w.available - taken.get(w.code, 0)) for w in here]
        plans.append(plan)
    return plans


@dataclass(frozen=True)
class BackorderDecision:
    backordered: int
    rejected: int


def decide_backorder(
    policy: BackorderPolicy, shortfall: int, *, limit: int | None, already_backordered: int
) -> BackorderDecision:
    """How much of a shortfall may wait for stock and how much is refused."""
    if shortfall < 0:
        raise InvalidInput("shortfall cannot be negative", field="quantity")
    if policy is BackorderPolicy.ALLOW:
        return BackorderDecision(shortfall, 0)
    if policy is BackorderPolicy.ALLOW_UNTIL:
        room = max(0, (limit or 0) - already_backordered)
        waiting = min(shortfall, room)
        return BackorderDecision(waiting, shortfall - waiting)
    return BackorderDecision(0, shortfall)
