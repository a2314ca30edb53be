"""An order's stock step — the reservation of its lines (migration 0024), the
allocation of its reservations (0023), a pick or a ship of a fulfilment request
(0022): one operation per line, reservation or allocation — kept whole or not at
all.

    results = await pick_all(sessions, [(caller, PickAllocation(...)), ...])

Each operation keeps its own key (a retry, or a step whose operations an older
worker committed one by one, replays what was done and runs the rest). The step
is one call of its function (`oms_reserve_all`, `oms_allocate_all`,
`oms_pick_all`, `oms_ship_all`), which runs the per-operation functions in one
statement: refused at any operation, nothing of the step is kept, so the run's
book never misses stock moved behind its back. When that call defers (SQLSTATE
OMS01), the reference runs every operation in one transaction
(operation.run_operations). An allocation step leaves out a reservation with
nothing left (released meanwhile): the function defers, the reference leaves it
out through a savepoint (operation.run_passing). A reservation step a line short
of its plan is refused whole (InsufficientStock); the order's step then reserves
its lines one by one (activities/order_lines.py).

Both paths run a step's operations in the order of the stock they move
(warehouse, item; a reservation line by the lowest it names), then as asked, and
answer in the order asked: two steps over the same items take their locks in one
order instead of deadlocking (a step still locks a later operation's documents
after an earlier one's stock rows, and a line split over warehouses is ordered
by one of them; a deadlock is broken by PostgreSQL and retried)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.stock import calls
from db.stock.allocating import allocate_operation
from db.stock.fulfilling import pick_operation, ship_operation
from db.stock.operation import Caller, Operation, run_operations, run_passing
from db.stock.promising import function_reserves, reserve_operation
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
R = TypeVar("R")

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
    if not all(function_reserves(command) for _, command in reserves):
        return await reference_reserve_all(sessions, reserves)
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
    return await _in_step_order(
        sessions,
        [reserve_operation(*r) for r in reserves],
        run_operations,
        "SELECT oms_line_order(:t, CAST(:l AS int[]), CAST(:w AS text[]), CAST(:s AS text[]))",
        {"t": reserves[0][0].tenant_id, "l": lines, "w": warehouses, "s": skus},
    )


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
    return await _in_step_order(
        sessions,
        [
            dataclasses.replace(allocate_operation(*a), passes=(InvalidTransition,))
            for a in allocations
        ],
        run_passing,
        "SELECT oms_reservation_order(:t, CAST(:ids AS bigint[]))",
        {"t": allocations[0][0].tenant_id, "ids": _reservations(allocations)},
    )


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
    return await _in_step_order(
        sessions, [pick_operation(*p) for p in picks], run_operations, *_by_allocation(picks)
    )


async def reference_ship_all(
    sessions: async_sessionmaker[AsyncSession], ships: Ships
) -> list[AllocationResult]:
    """The reference for a step's ships: each as `reference_ship`, in one transaction."""
    return await _in_step_order(
        sessions, [ship_operation(*s) for s in ships], run_operations, *_by_allocation(ships)
    )


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


def _by_allocation(step: Picks | Ships) -> tuple[str, dict[str, Any]]:
    """How a warehouse step's function orders its operations: `oms_step_order`."""
    tenant_id = step[0][0].tenant_id if step else 0
    return "SELECT oms_step_order(:t, CAST(:ids AS bigint[]))", {
        "t": tenant_id,
        "ids": _allocations(step),
    }


async def _in_step_order(
    sessions: async_sessionmaker[AsyncSession],
    operations: list[Operation[T]],
    run: Callable[[async_sessionmaker[AsyncSession], Sequence[Operation[T]]], Awaitable[list[R]]],
    sql: str,
    params: dict[str, Any],
) -> list[R]:
    """A step's operations run (`run`: in one transaction) in the order its
    function runs them, which `sql` (that function's order, positions from 1)
    gives; one it leaves out (a command of no lines) last. Answers in the order
    asked."""
    async with sessions() as session:
        positions = await session.scalars(text(sql), params)
        order = [int(position) - 1 for position in positions]
    order += [n for n in range(len(operations)) if n not in order]
    if sorted(order) != list(range(len(operations))):
        raise RuntimeError(f"{sql}: not one position per operation: {order}")
    answered = dict(zip(order, await run(sessions, [operations[n] for n in order]), strict=True))
    return [answered[n] for n in range(len(operations))]
