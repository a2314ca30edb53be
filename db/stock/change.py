"""StockChange: the deltas one operation makes to stock levels, lot levels and
balances, applied with guarded updates in one global lock order.

Every operation first locks its document rows (reservations, allocations), then
calls `apply`, which touches rows in the order: stock levels by (warehouse, item),
then lot levels by (warehouse, lot), then balances by (warehouse, item, lot,
location, serial) — those that may run short first, those that only grow after.
Every balance is changed under the lock of its level row, taken first: one order
for all operations means concurrent operations wait for each other but never
deadlock on stock rows. (An order's stock step runs several operations in one
transaction, db/stock/steps.py: by item, so steps keep this order among
themselves; a rare deadlock with another operation is broken and retried.) Each update carries the
invariant as its WHERE clause (nothing negative; promised <= on_hand), so a
change that would oversell updates no row: it is reported as a shortage and the
whole transaction rolls back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.events import record_events
from db.stock.crossings import LEVEL_RETURNING, level_events
from domain.events import NewEvent
from domain.stock import InsufficientStock, Shortage


@dataclass
class Label:
    """How a row is named in a shortage report."""

    line: int
    sku: str
    warehouse: str
    location: str | None = None
    lot: str | None = None


@dataclass
class LevelDelta:
    on_hand: int = 0
    reserved: int = 0
    allocated: int = 0
    in_transit: int = 0
    incoming: int = 0
    held: int = 0  # on_hand change in lots that are not available (set by `apply`)
    requested: int = 0  # what the caller asked for, for the shortage report
    label: Label | None = None

    @property
    def changes_totals(self) -> bool:
        return any(
            (self.on_hand, self.reserved, self.allocated, self.in_transit, self.incoming, self.held)
        )


@dataclass
class LotDelta:
    item_id: int
    on_hand: int = 0
    reserved: int = 0
    allocated: int = 0
    requested: int = 0
    label: Label | None = None


@dataclass
class BalanceDelta:
    on_hand: int = 0
    allocated: int = 0
    requested: int = 0
    label: Label | None = None


@dataclass(frozen=True, order=True)
class BalanceKey:
    """Field order is the lock order."""

    warehouse_id: int
    item_id: int
    lot_id: int  # 0: no lot
    location_id: int
    serial_id: int  # 0: no serial


@dataclass(frozen=True)
class Place:
    """Where a balance is, by ids (its key) and by names. A balance never moves, so
    an operation looks each one up once."""

    key: BalanceKey
    warehouse: str
    location: str
    sku: str
    lot: str | None
    serial: str | None


def _demand(*deltas: int) -> int:
    return sum(-d for d in deltas if d < 0)


@dataclass
class StockChange:
    tenant_id: int
    levels: dict[tuple[int, int], LevelDelta] = field(default_factory=dict)
    lots: dict[tuple[int, int], LotDelta] = field(default_factory=dict)
    balances: dict[BalanceKey, BalanceDelta] = field(default_factory=dict)

    # -- building --------------------------------------------------------------

    def level(self, warehouse_id: int, item_id: int, label: Label) -> LevelDelta:
        delta = self.levels.setdefault((warehouse_id, item_id), LevelDelta())
        delta.label = delta.label or label
        return delta

    def lot(self, warehouse_id: int, lot_id: int, item_id: int, label: Label) -> LotDelta:
        delta = self.lots.setdefault((warehouse_id, lot_id), LotDelta(item_id))
        delta.label = delta.label or label
        return delta

    def balance(self, key: BalanceKey, label: Label) -> BalanceDelta:
        delta = self.balances.setdefault(key, BalanceDelta())
        delta.label = delta.label or label
        return delta

    def on_hand(self, key: BalanceKey, quantity: int, label: Label) -> None:
        """Stock arrives (+) or leaves (-) a place, with its warehouse and lot totals."""
        self.balance(key, label).on_hand += quantity
        self.level(key.warehouse_id, key.item_id, label).on_hand += quantity
        if key.lot_id:
            self.lot(key.warehouse_id, key.lot_id, key.item_id, label).on_hand += quantity

    def transfer_on_hand(
        self, source: BalanceKey, target: BalanceKey, qty: int, label: Label
    ) -> None:
        self.on_hand(source, -qty, label)
        self.on_hand(target, qty, label)

    def reserve(
        self, warehouse_id: int, item_id: int, lot_id: int | None, quantity: int, label: Label
    ) -> None:
        """Reserve (+) or release (-) warehouse stock, pinned to a lot if given."""
        level = self.level(warehouse_id, item_id, label)
        level.reserved += quantity
        level.requested += max(quantity, 0)
        if lot_id:
            lot = self.lot(warehouse_id, lot_id, item_id, label)
            lot.reserved += quantity
            lot.requested += max(quantity, 0)

    def allocate(self, key: BalanceKey, quantity: int, label: Label) -> None:
        """Allocate (+) or deallocate (-) stock at a balance."""
        balance = self.balance(key, label)
        balance.allocated += quantity
        balance.requested += max(quantity, 0)
        self.level(key.warehouse_id, key.item_id, label).allocated += quantity
        if key.lot_id:
            self.lot(key.warehouse_id, key.lot_id, key.item_id, label).allocated += quantity

    # -- applying --------------------------------------------------------------

    async def _count_held(self, session: AsyncSession) -> None:
        """Stock arriving in (or leaving) a lot that is not available is held at its
        warehouse: on hand, never promised."""
        lots = {key.lot_id for key, d in self.balances.items() if key.lot_id and d.on_hand}
        held = await _held_lots(session, sorted(lots))
        for key, d in self.balances.items():
            if key.lot_id in held and d.on_hand:
                self.levels[(key.warehouse_id, key.item_id)].held += d.on_hand

    async def apply(self, session: AsyncSession) -> dict[BalanceKey, int]:
        """Apply every delta in lock order; balance ids by key. Raises
        InsufficientStock naming every row that could not take its change."""
        shortages: list[Shortage] = []
        events: list[NewEvent] = []  # the thresholds `available` crossed
        await self._count_held(session)
        for (warehouse_id, item_id), d in sorted(self.levels.items()):
            if not d.changes_totals:
                # A move within the warehouse: no total changes, but the level row is
                # the one lock every operation on this item and warehouse takes first.
                await lock_levels(session, self.tenant_id, [(warehouse_id, item_id)])
                continue
            after = await _apply_level(session, self.tenant_id, warehouse_id, item_id, d)
            if after is None:
                # A refused update locks nothing: take the level's lock all the same,
                # as every change of its balances below must hold it (they are
                # applied falls first, not in key order).
                await lock_levels(session, self.tenant_id, [(warehouse_id, item_id)])
                available = await _level_available(session, warehouse_id, item_id)
                shortages.append(shortage(d.label, d.requested or _demand(d.on_hand), available))
            else:
                assert d.label is not None
                events += level_events(self.tenant_id, d.label.warehouse, d.label.sku, after, d)
        for (warehouse_id, lot_id), lot in sorted(self.lots.items()):
            if not await _apply_lot(session, self.tenant_id, warehouse_id, lot_id, lot):
                available = await _lot_available(session, warehouse_id, lot_id)
                shortages.append(
                    shortage(lot.label, lot.requested or _demand(lot.on_hand), available)
                )
        ids: dict[BalanceKey, int] = {}
        # The balances that may run short first, those that only grow after, and only
        # when nothing ran short: a rise can break a rule of its own (a serial moved
        # from where it is not into where it is would be two units in one place),
        # and the refusal must be the shortage. The level rows locked above (changed,
        # refused or only locked) order concurrent changes of these balances, so
        # their order here cannot deadlock.
        ordered = sorted(self.balances.items())
        rising = {
            k
            for k, b in ordered
            if (b.on_hand or b.allocated) and _insertable(b.on_hand, b.allocated)
        }
        falls = [(k, b) for k, b in ordered if k not in rising]
        rises = [(k, b) for k, b in ordered if k in rising]
        for batch in (falls, rises):
            if shortages and batch is rises:
                break
            for key, b in batch:
                balance_id = await _apply_balance(session, self.tenant_id, key, b)
                if balance_id is None:
                    available = await _balance_available(session, key)
                    demand = b.requested or _demand(b.on_hand)
                    shortages.append(shortage(b.label, demand, available))
                else:
                    ids[key] = balance_id
        if shortages:
            raise InsufficientStock(_dedupe(shortages))
        await record_events(session, events)
        return ids


async def _held_lots(session: AsyncSession, lot_ids: list[int]) -> set[int]:
    """Which of these lots are not available (hold, quarantine, expired). Read under a
    share lock: a lot's status changes only under its row lock, so the status seen
    here is the one this transaction's change is counted with."""
    if not lot_ids:
        return set()
    rows = await session.scalars(
        text(
            "SELECT id FROM lots WHERE id = ANY(:ids) AND status <> 'available'"
            " ORDER BY id FOR SHARE"
        ),
        {"ids": sorted(lot_ids)},
    )
    return set(rows)


async def lock_levels(session: AsyncSession, tenant_id: int, keys: list[tuple[int, int]]) -> None:
    """Lock stock level rows (warehouse_id, item_id) in lock order, creating them
    when missing, before reading balances to compute a change."""
    for warehouse_id, item_id in sorted(set(keys)):
        params = {"t": tenant_id, "w": warehouse_id, "i": item_id}
        await session.execute(
            text(
                "INSERT INTO stock_levels (tenant_id, warehouse_id, item_id, on_hand, reserved,"
                " allocated, in_transit, incoming, held) VALUES (:t, :w, :i, 0, 0, 0, 0, 0, 0)"
                " ON CONFLICT (warehouse_id, item_id) DO UPDATE SET on_hand = stock_levels.on_hand"
            ),
            params,
        )


def shortage(label: Label | None, requested: int, available: int) -> Shortage:
    assert label is not None
    return Shortage(
        label.line, label.sku, label.warehouse, label.location, label.lot, requested, available
    )


def _dedupe(shortages: list[Shortage]) -> list[Shortage]:
    """One report per line: the most specific (balance, then lot, then warehouse)."""
    by_line: dict[int, Shortage] = {}
    for shortage in shortages:
        by_line[shortage.line] = shortage  # later (more specific) rows win
    return [by_line[line] for line in sorted(by_line)]


_LEVEL_GUARD = """
    {t}.on_hand + {d}on_hand >= 0 AND {t}.reserved + {d}reserved >= 0
    AND {t}.allocated + {d}allocated >= 0 AND {t}.in_transit + {d}in_transit >= 0
    AND {t}.incoming + {d}incoming >= 0 AND {t}.held + {d}held >= 0
    AND {t}.reserved + {d}reserved + {t}.allocated + {d}allocated + {t}.held + {d}held
        <= {t}.on_hand + {d}on_hand
"""

_LEVEL_UPSERT = text(
    """
    INSERT INTO stock_levels AS s
        (tenant_id, warehouse_id, item_id, on_hand, reserved, allocated, in_transit, incoming,
         held)
    VALUES (:tenant_id, :warehouse_id, :item_id, :on_hand, :reserved, :allocated,
            :in_transit, :incoming, :held)
    ON CONFLICT (warehouse_id, item_id) DO UPDATE SET
        on_hand = s.on_hand + EXCLUDED.on_hand, reserved = s.reserved + EXCLUDED.reserved,
        allocated = s.allocated + EXCLUDED.allocated,
        in_transit = s.in_transit + EXCLUDED.in_transit, incoming = s.incoming + EXCLUDED.incoming,
        held = s.held + EXCLUDED.held
    WHERE """
    + _LEVEL_GUARD.format(t="s", d="EXCLUDED.")
    + LEVEL_RETURNING
)

_LEVEL_UPDATE = text(
    """
    UPDATE stock_levels AS s SET
        on_hand = on_hand + :on_hand, reserved = reserved + :reserved,
        allocated = allocated + :allocated, in_transit = in_transit + :in_transit,
        incoming = incoming + :incoming, held = held + :held
    WHERE warehouse_id = :warehouse_id AND item_id = :item_id AND """
    + _LEVEL_GUARD.format(t="s", d=":")
    + LEVEL_RETURNING
)


def _insertable(on_hand: int, *promised: int, others: tuple[int, ...] = ()) -> bool:
    """A new row with these values would satisfy the CHECK constraints."""
    return on_hand >= 0 and all(p >= 0 for p in (*promised, *others)) and sum(promised) <= on_hand


async def _apply_level(
    session: AsyncSession, tenant_id: int, warehouse_id: int, item_id: int, d: LevelDelta
) -> Row[Any] | None:
    """The level row after the change (with the item's threshold); None: refused."""
    params = {
        "tenant_id": tenant_id,
        "warehouse_id": warehouse_id,
        "item_id": item_id,
        "on_hand": d.on_hand,
        "reserved": d.reserved,
        "allocated": d.allocated,
        "in_transit": d.in_transit,
        "incoming": d.incoming,
        "held": d.held,
    }
    insertable = _insertable(
        d.on_hand, d.reserved, d.allocated, d.held, others=(d.in_transit, d.incoming)
    )
    statement = _LEVEL_UPSERT if insertable else _LEVEL_UPDATE
    return (await session.execute(statement, params)).first()


async def _level_available(session: AsyncSession, warehouse_id: int, item_id: int) -> int:
    value = await session.scalar(
        text(
            "SELECT on_hand - reserved - allocated - held FROM stock_levels "
            "WHERE warehouse_id = :w AND item_id = :i"
        ),
        {"w": warehouse_id, "i": item_id},
    )
    return int(value or 0)


_LOT_GUARD = """
    {t}.on_hand + {d}on_hand >= 0 AND {t}.reserved + {d}reserved >= 0
    AND {t}.allocated + {d}allocated >= 0
    AND {t}.reserved + {d}reserved + {t}.allocated + {d}allocated <= {t}.on_hand + {d}on_hand
"""

_LOT_UPSERT = text(
    """
    INSERT INTO lot_levels AS l
        (tenant_id, warehouse_id, lot_id, item_id, on_hand, reserved, allocated)
    VALUES (:tenant_id, :warehouse_id, :lot_id, :item_id, :on_hand, :reserved, :allocated)
    ON CONFLICT (warehouse_id, lot_id) DO UPDATE SET
        on_hand = l.on_hand + EXCLUDED.on_hand, reserved = l.reserved + EXCLUDED.reserved,
        allocated = l.allocated + EXCLUDED.allocated
    WHERE """
    + _LOT_GUARD.format(t="l", d="EXCLUDED.")
    + " RETURNING 1"
)

_LOT_UPDATE = text(
    """
    UPDATE lot_levels AS l SET
        on_hand = on_hand + :on_hand, reserved = reserved + :reserved,
        allocated = allocated + :allocated
    WHERE warehouse_id = :warehouse_id AND lot_id = :lot_id AND """
    + _LOT_GUARD.format(t="l", d=":")
    + " RETURNING 1"
)


async def _apply_lot(
    session: AsyncSession, tenant_id: int, warehouse_id: int, lot_id: int, d: LotDelta
) -> bool:
    if not (d.on_hand or d.reserved or d.allocated):
        return True
    params = {
        "tenant_id": tenant_id,
        "warehouse_id": warehouse_id,
        "lot_id": lot_id,
        "item_id": d.item_id,
        "on_hand": d.on_hand,
        "reserved": d.reserved,
        "allocated": d.allocated,
    }
    statement = _LOT_UPSERT if _insertable(d.on_hand, d.reserved, d.allocated) else _LOT_UPDATE
    return (await session.execute(statement, params)).first() is not None


async def _lot_available(session: AsyncSession, warehouse_id: int, lot_id: int) -> int:
    value = await session.scalar(
        text(
            "SELECT on_hand - reserved - allocated FROM lot_levels "
            "WHERE warehouse_id = :w AND lot_id = :l"
        ),
        {"w": warehouse_id, "l": lot_id},
    )
    return int(value or 0)


_BALANCE_GUARD = """
    {t}.on_hand + {d}on_hand >= 0 AND {t}.allocated + {d}allocated >= 0
    AND {t}.allocated + {d}allocated <= {t}.on_hand + {d}on_hand
"""

_BALANCE_UPSERT = text(
    """
    INSERT INTO balances AS b
        (tenant_id, warehouse_id, location_id, item_id, lot_id, serial_id, on_hand, allocated)
    VALUES (:tenant_id, :warehouse_id, :location_id, :item_id, NULLIF(:lot_id, 0),
            NULLIF(:serial_id, 0), :on_hand, :allocated)
    ON CONFLICT (location_id, item_id, coalesce(lot_id, 0), coalesce(serial_id, 0))
    DO UPDATE SET on_hand = b.on_hand + EXCLUDED.on_hand,
                  allocated = b.allocated + EXCLUDED.allocated
    WHERE """
    + _BALANCE_GUARD.format(t="b", d="EXCLUDED.")
    + " RETURNING id"
)

_BALANCE_UPDATE = text(
    """
    UPDATE balances AS b SET on_hand = on_hand + :on_hand, allocated = allocated + :allocated
    WHERE location_id = :location_id AND item_id = :item_id
      AND coalesce(lot_id, 0) = :lot_id AND coalesce(serial_id, 0) = :serial_id AND """
    + _BALANCE_GUARD.format(t="b", d=":")
    + " RETURNING id"
)

_BALANCE_ID = text(
    """
    SELECT id FROM balances WHERE location_id = :location_id AND item_id = :item_id
      AND coalesce(lot_id, 0) = :lot_id AND coalesce(serial_id, 0) = :serial_id
    """
)


async def _apply_balance(
    session: AsyncSession, tenant_id: int, key: BalanceKey, d: BalanceDelta
) -> int | None:
    params = {
        "tenant_id": tenant_id,
        "warehouse_id": key.warehouse_id,
        "location_id": key.location_id,
        "item_id": key.item_id,
        "lot_id": key.lot_id,
        "serial_id": key.serial_id,
        "on_hand": d.on_hand,
        "allocated": d.allocated,
    }
    if not (d.on_hand or d.allocated):
        found = await session.scalar(_BALANCE_ID, params)
        return int(found) if found is not None else None
    statement = _BALANCE_UPSERT if _insertable(d.on_hand, d.allocated) else _BALANCE_UPDATE
    row = (await session.execute(statement, params)).first()
    return int(row[0]) if row is not None else None


async def _balance_available(session: AsyncSession, key: BalanceKey) -> int:
    value = await session.scalar(
        text(
            "SELECT on_hand - allocated FROM balances WHERE location_id = :l AND item_id = :i "
            "AND coalesce(lot_id, 0) = :lot AND coalesce(serial_id, 0) = :s"
        ),
        {"l": key.location_id, "i": key.item_id, "lot": key.lot_id, "s": key.serial_id},
    )
    return int(value or 0)
