"""No oversell and no unhandled deadlock under concurrent callers, on a real
Postgres (DESIGN §5.1, §5.4; STYLE: prove it with many callers, not argument)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
from collections import Counter

from sqlalchemy import text

from db.stock.fulfilling import pick, put_back, ship
from db.stock.on_hand import adjust, cycle_count, move, receive
from db.stock.promising import allocate, deallocate, release, reserve
from domain.errors import DomainError
from domain.stock import (
    AdjustStock,
    AllocateReservation,
    CountLine,
    CycleCount,
    Deallocate,
    MoveStock,
    PickAllocation,
    PutBack,
    ReceiptLine,
    ReceiveStock,
    ReleaseReservation,
    ReserveLine,
    ReserveStock,
    ShipAllocation,
)
from tests.integration.stock_world import World

# The soak ends after this many applied operations (not after a time: a loaded
# machine must not turn into a failure what is only slowness).
SOAK_OPERATIONS = int(os.environ.get("OMS_SOAK_OPERATIONS", "300"))


async def test_200_concurrent_reservations_across_processes_take_exactly_50(
    world: World, database_url: str
) -> None:
    await world.receive("WIDGET", 50)
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.integration.reserve_load",
            database_url,
            str(world.tenant_id),
            "WIDGET",
            "50",
            "10",
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(4)
    ]
    outputs = [await process.communicate() for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0, 0]
    totals: Counter[str] = Counter()
    for stdout, _ in outputs:
        totals.update(json.loads(stdout))
    assert totals == {"reserved": 50, "short": 150}
    assert await world.level("WIDGET") == {
        "on_hand": 50,
        "reserved": 50,
        "allocated": 0,
        "in_transit": 0,
        "incoming": 0,
    }


async def test_the_same_key_at_once_has_one_effect(world: World) -> None:
    caller = world.caller("same-receipt")
    command = ReceiveStock("WH1", "A1", [ReceiptLine("WIDGET", 7)])
    results = await asyncio.gather(*(receive(world.sessions, caller, command) for _ in range(20)))
    assert len({tuple(r.movements) for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert await world.balance("WIDGET", "A1") == (7, 0)
    assert await world.ledger_size() == 1

    reserve_caller = world.caller("same-reservation")
    order = ReserveStock([ReserveLine("WH1", "WIDGET", 3)], "order", "SO-1")
    reserved = await asyncio.gather(
        *(reserve(world.sessions, reserve_caller, order) for _ in range(20))
    )
    assert len({r.reservations[0].id for r in reserved}) == 1
    assert (await world.level("WIDGET"))["reserved"] == 3


async def test_one_serial_received_at_once_in_two_places_is_in_stock_once(world: World) -> None:
    # A serial the system knows but that is out of stock (received, then scrapped):
    # creating its row no longer makes concurrent receipts wait for each other.
    await world.receive("PHONE", 1, serials=["SN-R"])
    gone = AdjustStock("WH1", "A1", "PHONE", -1, "returned to vendor", serials=["SN-R"])
    await adjust(world.sessions, world.caller(), gone)
    receipts = [
        receive(
            world.sessions,
            world.caller(),
            ReceiveStock(warehouse, location, [ReceiptLine("PHONE", 1, serials=["SN-R"])]),
        )
        for warehouse, location in [("WH1", "A1"), ("WH1", "A2"), ("WH2", "A1"), ("WH2", "B1")] * 3
    ]
    outcomes = await asyncio.gather(*receipts, return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(refused) == len(outcomes) - 1, outcomes
    assert all("already in stock" in str(o) for o in refused)
    assert await world.ledger_size() == 3


SKUS = ["WIDGET", "GADGET", "BOLT"]
BINS = ["A1", "A2", "B1"]


class Soak:
    """Random stock operations by many concurrent callers; anything but a business
    refusal (DomainError) is a failure."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.reservations: list[int] = []
        self.allocations: list[int] = []
        self.picked: list[int] = []
        self.done: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()

    def lot(self, sku: str) -> str | None:
        return random.choice(["L1", "L2"]) if sku == "BOLT" else None

    async def step(self) -> None:
        w = self.world
        sku, where = random.choice(SKUS), random.choice(BINS)
        lot = self.lot(sku)
        operation = random.choice(
            [
                "receive",
                "adjust",
                "move",
                "count",
                "reserve",
                "reserve",
                "release",
                "allocate",
                "allocate",
                "deallocate",
                "pick",
                "ship",
                "put_back",
            ]
        )
        caller = w.caller()
        try:
            if operation == "receive":
                line = ReceiptLine(sku, random.randint(1, 8), lot)
                await receive(w.sessions, caller, ReceiveStock("WH1", where, [line]))
            elif operation == "adjust":
                delta = random.choice([-3, -1, 2])
                await adjust(w.sessions, caller, AdjustStock("WH1", where, sku, delta, "soak", lot))
            elif operation == "move":
                target = random.choice([b for b in BINS if b != where])
                await move(w.sessions, caller, MoveStock("WH1", where, target, sku, 2, lot))
            elif operation == "count":
                counts = [CountLine(sku, random.randint(0, 12), lot)]
                await cycle_count(w.sessions, caller, CycleCount("WH1", where, counts, "soak"))
            elif operation == "reserve":
                lines = [
                    ReserveLine("WH1", s, random.randint(1, 4)) for s in random.sample(SKUS, 2)
                ]
                result = await reserve(w.sessions, caller, ReserveStock(lines, "order"))
                self.reservations += [r.id for r in result.reservations]
            elif operation == "release" and self.reservations:
                rid = random.choice(self.reservations)
                await release(w.sessions, caller, ReleaseReservation(rid))
            elif operation == "allocate" and self.reservations:
                rid = random.choice(self.reservations)
                allocated = await allocate(w.sessions, caller, AllocateReservation(rid))
                self.allocations += [a.id for a in allocated.allocations]
            elif operation == "deallocate" and self.allocations:
                await deallocate(w.sessions, caller, Deallocate(random.choice(self.allocations)))
            elif operation == "pick" and self.allocations:
                aid = random.choice(self.allocations)
                picked = await pick(w.sessions, caller, PickAllocation(aid, 1, "STAGE"))
                self.picked.append(picked.allocations[0].id)
            elif operation == "ship" and self.picked:
                await ship(w.sessions, caller, ShipAllocation(random.choice(self.picked)))
            elif operation == "put_back" and self.picked:
                await put_back(w.sessions, caller, PutBack(random.choice(self.picked), where))
            else:
                return
            self.done[operation] += 1
        except DomainError as refusal:
            self.refused[type(refusal).__name__] += 1

    async def caller_loop(self) -> None:
        while sum(self.done.values()) < SOAK_OPERATIONS:
            await self.step()


async def test_mixed_operations_under_concurrency_keep_every_invariant(world: World) -> None:
    random.seed(7)
    for sku in SKUS:
        for where in BINS:
            await world.receive(sku, 10, location=where, lot="L1" if sku == "BOLT" else None)
    soak = Soak(world)
    callers = [asyncio.create_task(soak.caller_loop()) for _ in range(16)]
    while not all(task.done() for task in callers):
        await asyncio.wait(callers, timeout=2.0)
        # Mid-flight, a consistent snapshot must already satisfy the invariants.
        assert await world.violations() == []
    await asyncio.gather(*callers)  # re-raises anything unexpected (deadlock, CHECK)

    assert sum(soak.done.values()) >= SOAK_OPERATIONS, soak.done
    for operation in ("receive", "move", "reserve", "allocate", "pick", "ship"):
        assert soak.done[operation] > 0, soak.done
    # NotFound: a lot that no receipt has created yet (random lots L1/L2)
    assert set(soak.refused) <= {
        "InsufficientStock",
        "InvalidTransition",
        "InvalidInput",
        "NotFound",
    }
    print("soak:", dict(soak.done), "refused:", dict(soak.refused))
    async with world.sessions() as session:
        negative = await session.scalar(
            text(
                "SELECT count(*) FROM stock_levels WHERE tenant_id = :t AND "
                "(on_hand < 0 OR reserved + allocated > on_hand)"
            ),
            {"t": world.tenant_id},
        )
    assert negative == 0
