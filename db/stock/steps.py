"""An order's step — the reservation of its lines (migration 0024), the
allocation of its reservations (0023), a pick or a ship of a fulfilment request
(0022), one operation per line, reservation or allocation — kept whole or not at
all.

    results = await pick_all(sessions, [(caller, PickAllocation(...)), ...])

Each operation keeps its own key (a retry, or a step whose operations an older
worker committed one by one, replays what was done and runs the rest). The step
is one call of `oms_pick_all` / `oms_ship_all`, which runs the per-allocation
functions (db/stock/fulfilling.py) in one statement: refused at any allocation,
nothing of the step is kept, so the run's book never misses an allocation picked
or shipped behind its back. When that call defers (SQLSTATE OMS01), the
reference runs every operation in one transaction (operation.run_operations).

Both paths run a step's operations in the order of the stock they move
(warehouse, item), then as asked, and answer in the order asked: two steps over
the same items take their locks in one order instead of deadlocking (a step still
locks a later allocation's documents after an earlier one's stock rows; a
deadlock with a single operation is broken by PostgreSQL and retried)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.stock import calls
from db.stock.allocating import allocate_operation
from db.stock.fulfilling import pick_operation, ship_operation
from db.stock.operation import Caller, Operation, run_operations, run_passing
from db.stock.promising import reserve_operation
from domain.stock import (
    AllocateReservation,
    AllocationResult,
    InvalidTransition,
    PickAllocation,
    ReservationsResult,
    ReserveStock,
    ShipAllocation,
)

_PICK_ALL = (
    "SELECT oms_pick_all(%s::bigint, %s::text[], %s::text[], %s, %s::bigint[], %s::bigint[],"
    " %s::text[])"
)
_SHIP_ALL = "SELECT oms_ship_all(%s::bigint, %s::text[], %s::text[], %s, %s::bigint[])"
_ALLOCATE_ALL = (
    "SELECT oms_allocate_all(%s::bigint, %s::text[], %s::text[], %s::bigint[], %s::bigint[],"
    " %s::text[], %s::text[])"
)

_RESERVE_ALL = (
    "SELECT oms_reserve_all(%s::bigint, %s::text[], %s::text[], %s::text[], %s::text[],"
    " %s::timestamptz[], %s::date, %s::int[], %s::text[], %s::text[], %s::bigint[])"
)

T = TypeVar("T")

Reserves = Sequence[tuple[Caller, ReserveStock]]
Allocations = Sequence[tuple[Caller, AllocateReservation]]
Picks = Sequence[tuple[Caller, PickAllocation]]
Ships = Sequence[tuple[Caller, ShipAllocation]]


async def reserve_all(
    sessions: async_sessionmaker[AsyncSession], reserves: Reserves
) -> list[ReservationsResult]:
    """A step's reservations (a caller each: its own key; a command each, of one
    line or several), all kept or none: a line short refuses the step
    (InsufficientStock naming that line's short lines) and nothing is kept."""
    if any(
        not c.lines or not c.source_type.strip() or any(x.lot for x in c.lines) for _, c in reserves
    ):
        return await reference_reserve_all(sessions, reserves)  # not the function's
    commands = [command for _, command in reserves]
    return await calls.call_all(
        sessions,
        "reserve",
        reserves,
        ReservationsResult,
        _RESERVE_ALL,
        lambda digests: (
            *_keyed(reserves, digests)[:3],
            [c.source_type for c in commands],
            [c.source_id for c in commands],
            [c.expires_at for c in commands],
            datetime.now(UTC).date(),
            *_reserve_lines(reserves),
        ),
        lambda: reference_reserve_all(sessions, reserves),
    )


async def reference_reserve_all(
    sessions: async_sessionmaker[AsyncSession], reserves: Reserves
) -> list[ReservationsResult]:
    """The reference for a step's reservations: each as `reference_reserve`, in one
    transaction."""
    if not reserves:
        return []
    lines, warehouses, skus, _ = _reserve_lines(reserves)
    order = await _step_order(
        sessions,
        "SELECT oms_line_order(:t, CAST(:l AS int[]), CAST(:w AS text[]), CAST(:s AS text[]))",
        {"t": reserves[0][0].tenant_id, "l": lines, "w": warehouses, "s": skus},
    )
    order += [n for n in range(len(reserves)) if n not in order]  # a command of no lines
    operations = [reserve_operation(*reserves[n]) for n in order]
    return _as_asked(order, await run_operations(sessions, operations))


async def allocate_all(
    sessions: async_sessionmaker[AsyncSession], allocations: Allocations
) -> list[AllocationResult | None]:
    """A step's allocations (a caller each: its own key), all kept or none; None
    for a reservation with nothing left to allocate (released meanwhile, or
    allocated under another key), which the step leaves out."""
    answers: list[AllocationResult] | list[AllocationResult | None] = await calls.call_all(
        sessions,
        "allocate",
        allocations,
        AllocationResult,
        _ALLOCATE_ALL,
        lambda digests: (
            *_keyed(allocations, digests)[:3],
            _reservations(allocations),
            [command.quantity for _, command in allocations],
            [command.reference_type for _, command in allocations],
            [command.reference_id for _, command in allocations],
        ),
        lambda: reference_allocate_all(sessions, allocations),
    )
    return list(answers)


async def reference_allocate_all(
    sessions: async_sessionmaker[AsyncSession], allocations: Allocations
) -> list[AllocationResult | None]:
    """The reference for a step's allocations: each as `reference_allocate`, in one
    transaction; one with nothing left (InvalidTransition) is left out (None)."""
    if not allocations:
        return []
    operations = [
        dataclasses.replace(allocate_operation(*a), passes=(InvalidTransition,))
        for a in allocations
    ]
    order = await _step_order(
        sessions,
        "SELECT oms_reservation_order(:t, CAST(:ids AS bigint[]))",
        {"t": allocations[0][0].tenant_id, "ids": _reservations(allocations)},
    )
    results = await run_passing(sessions, [operations[n] for n in order])
    return _as_asked(order, results)


async def pick_all(
    sessions: async_sessionmaker[AsyncSession], picks: Picks
) -> list[AllocationResult]:
    """A step's picks (a caller each: its own key), all kept or none."""
    return await calls.call_all(
        sessions,
        "pick",
        picks,
        AllocationResult,
        _PICK_ALL,
        lambda digests: (
            *_keyed(picks, digests),
            _allocations(picks),
            [command.quantity for _, command in picks],
            [command.to_location for _, command in picks],
        ),
        lambda: reference_pick_all(sessions, picks),
    )


async def ship_all(
    sessions: async_sessionmaker[AsyncSession], ships: Ships
) -> list[AllocationResult]:
    """A step's ships (a caller each: its own key), all kept or none."""
    return await calls.call_all(
        sessions,
        "ship",
        ships,
        AllocationResult,
        _SHIP_ALL,
        lambda digests: (*_keyed(ships, digests), _allocations(ships)),
        lambda: reference_ship_all(sessions, ships),
    )


async def reference_pick_all(
    sessions: async_sessionmaker[AsyncSession], picks: Picks
) -> list[AllocationResult]:
    """The reference for a step's picks: each as `reference_pick`, in one transaction."""
    return await _in_step_order(sessions, _allocations(picks), [pick_operation(*p) for p in picks])


async def reference_ship_all(
    sessions: async_sessionmaker[AsyncSession], ships: Ships
) -> list[AllocationResult]:
    """The reference for a step's ships: each as `reference_ship`, in one transaction."""
    return await _in_step_order(sessions, _allocations(ships), [ship_operation(*s) for s in ships])


def _allocations(step: Picks | Ships) -> list[int]:
    return [command.allocation_id for _, command in step]


def _reserve_lines(step: Reserves) -> tuple[list[int], list[str], list[str], list[int]]:
    """A step's reservation lines, flat: each one's step line (from 1), warehouse,
    SKU and quantity."""
    flat = [
        (n, line.warehouse, line.sku, line.quantity)
        for n, (_, command) in enumerate(step, start=1)
        for line in command.lines
    ]
    if not flat:
        return [], [], [], []
    lines, warehouses, skus, quantities = (list(column) for column in zip(*flat, strict=True))
    return lines, warehouses, skus, quantities


def _reservations(step: Allocations) -> list[int]:
    return [command.reservation_id for _, command in step]


def _keyed(
    step: Sequence[tuple[Caller, Any]], digests: Sequence[str]
) -> tuple[int, list[str], list[str], str]:
    """The parameters a step's function starts with: its tenant, a key and a request
    hash per operation, its actor (one tenant and one actor per step)."""
    (tenant_id, actor), *others = {(caller.tenant_id, caller.actor) for caller, _ in step}
    if others:
        raise ValueError("a step's operations have one tenant and one actor")
    return tenant_id, [caller.idempotency_key for caller, _ in step], list(digests), actor


async def _in_step_order(
    sessions: async_sessionmaker[AsyncSession],
    allocation_ids: list[int],
    operations: list[Operation[AllocationResult]],
) -> list[AllocationResult]:
    """A step's operations (one per allocation) in the order `oms_step_order` runs
    them (by the stock they move; an allocation not found last); results in the
    order asked."""
    order = await _step_order(
        sessions,
        "SELECT oms_step_order(:t, CAST(:ids AS bigint[]))",
        {"t": operations[0].caller.tenant_id, "ids": allocation_ids},
    )
    return _as_asked(order, await run_operations(sessions, [operations[n] for n in order]))


async def _step_order(
    sessions: async_sessionmaker[AsyncSession], sql: str, params: dict[str, Any]
) -> list[int]:
    """The positions (from 0) of a step's operations in the order a step's function
    runs them in (`sql`, its order function), so both paths run them alike."""
    async with sessions() as session:
        positions = await session.scalars(text(sql), params)
        return [int(position) - 1 for position in positions]


def _as_asked(order: list[int], results: Sequence[T]) -> list[T]:
    """Results of operations run in `order` (positions asked), in the order asked."""
    answered = dict(zip(order, results, strict=True))
    return [answered[n] for n in range(len(order))]
