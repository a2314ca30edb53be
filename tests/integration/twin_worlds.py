"""Twin worlds for the one-call stock operations (migrations 0015, 0016): two new
worlds given the same stock, one driven through the fast path, the other through
the reference implementation; `books` is what each left, in a stable order and
without ids (ids differ between worlds), for the two to be compared."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.catalogue import create_item
from domain.catalogue import ItemSpec
from domain.errors import DomainError
from tests.integration.stock_world import World, make_world


async def twin(sessions: async_sessionmaker[AsyncSession], stock: dict[str, int]) -> World:
    """A new world with an item LOWISH (low-stock threshold 3) and `stock` received
    at A1 ("SKU@WAREHOUSE": quantity)."""
    world = await make_world(sessions)
    async with sessions() as session, session.begin():
        spec = ItemSpec("LOWISH", "Low-stock alerted", low_stock_threshold=3)
        await create_item(session, world.tenant_id, spec)
    for place, quantity in stock.items():
        sku, warehouse = place.split("@")
        if quantity:
            await world.receive(sku, quantity, warehouse=warehouse)
    return world


_BOOKS = {
    "levels": """
        SELECT w.code, i.sku, s.on_hand, s.reserved, s.allocated, s.held
        FROM stock_levels s JOIN items i ON i.id = s.item_id
        JOIN warehouses w ON w.id = s.warehouse_id WHERE s.tenant_id = :t ORDER BY 1, 2""",
    "reservations": """
        SELECT w.code, i.sku, r.requested, r.quantity, r.status, r.source_type
        FROM reservations r JOIN items i ON i.id = r.item_id
        JOIN warehouses w ON w.id = r.warehouse_id WHERE r.tenant_id = :t ORDER BY r.id""",
    "events": """
        SELECT type, subject_id, sequence, data FROM events WHERE tenant_id = :t ORDER BY id""",
    "lot_levels": """
        SELECT w.code, l.lot_number, v.on_hand, v.reserved, v.allocated
        FROM lot_levels v JOIN lots l ON l.id = v.lot_id
        JOIN warehouses w ON w.id = v.warehouse_id WHERE v.tenant_id = :t ORDER BY 1, 2""",
    "balances": """
        SELECT w.code, loc.code, i.sku, l.lot_number, s.serial_number, b.on_hand, b.allocated
        FROM balances b JOIN warehouses w ON w.id = b.warehouse_id
        JOIN locations loc ON loc.id = b.location_id JOIN items i ON i.id = b.item_id
        LEFT JOIN lots l ON l.id = b.lot_id LEFT JOIN serials s ON s.id = b.serial_id
        WHERE b.tenant_id = :t ORDER BY 1, 2, 3, 4, 5""",
    # the reservation by its rank among the tenant's: ids differ between worlds
    "allocations": """
        SELECT (SELECT count(*) FROM reservations r WHERE r.tenant_id = a.tenant_id
                AND r.id <= a.reservation_id),
               w.code, loc.code, i.sku, a.quantity, a.status, a.reference_type, a.reference_id
        FROM allocations a JOIN balances b ON b.id = a.balance_id
        JOIN warehouses w ON w.id = a.warehouse_id JOIN locations loc ON loc.id = b.location_id
        JOIN items i ON i.id = a.item_id WHERE a.tenant_id = :t ORDER BY a.id""",
    # the idempotency key by the order of its first row: setup keys are random
    "movements": """
        WITH keys AS (SELECT idempotency_key, rank() OVER (ORDER BY min(id)) AS n
                      FROM movements WHERE tenant_id = :t GROUP BY idempotency_key)
        SELECT m.type, w.code, i.sku, l.lot_number, m.quantity, src.code, dst.code,
               m.reference_type, m.reference_id, m.actor, m.reason, keys.n, m.seq
        FROM movements m JOIN keys USING (idempotency_key)
        JOIN warehouses w ON w.id = m.warehouse_id
        JOIN items i ON i.id = m.item_id LEFT JOIN lots l ON l.id = m.lot_id
        LEFT JOIN locations src ON src.id = m.from_location_id
        LEFT JOIN locations dst ON dst.id = m.to_location_id
        WHERE m.tenant_id = :t ORDER BY m.id""",
}


async def books(world: World) -> dict[str, Any]:
    """What the operations left: levels, lot levels, balances, reservations,
    allocations, the ledger and events, in a stable order."""
    async with world.sessions() as session:
        return {
            name: [tuple(row) for row in await session.execute(text(sql), {"t": world.tenant_id})]
            for name, sql in _BOOKS.items()
        }


async def kept(world: World) -> tuple[dict[str, Any], int]:
    """What a step could have written: the books and the key records (a step
    refused whole leaves both as they were)."""
    async with world.sessions() as session:
        keys = await session.scalar(
            text("SELECT count(*) FROM idempotency_records WHERE tenant_id = :t"),
            {"t": world.tenant_id},
        )
    return await books(world), int(keys or 0)


async def deactivate(world: World, location: str) -> None:
    """Make `location` inactive in each of the world's warehouses."""
    async with world.sessions() as session, session.begin():
        await session.execute(
            text(
                "UPDATE locations SET active = false WHERE code = :code AND warehouse_id IN"
                " (SELECT id FROM warehouses WHERE tenant_id = :t)"
            ),
            {"t": world.tenant_id, "code": location},
        )


_RANKS = "SELECT id, rank() OVER (ORDER BY id) AS n FROM movements WHERE tenant_id = :t"


async def play_movements(world: World, steps: list[tuple[str, Any]], path: Any) -> list[Any]:
    """Each step's answer through `path` (an operation answering MovementsResult) under
    its key: a refusal as (type, detail, field), a result as (replayed, its movements
    with ids as their rank in the world's ledger: ids differ between worlds)."""
    answers: list[Any] = []
    for key, command in steps:
        try:
            result = await path(world.sessions, world.caller(key), command)
        except DomainError as refusal:
            answers.append((type(refusal).__name__, refusal.detail, refusal.field))
            continue
        async with world.sessions() as session:
            ranked = await session.execute(text(_RANKS), {"t": world.tenant_id})
            ranks: dict[int, int] = {row.id: row.n for row in ranked}
        moved = [
            (ranks[m.id], m.type, m.sku, m.quantity, m.from_location, m.to_location, m.lot)
            for m in result.movements
        ]
        answers.append((result.replayed, moved))
    return answers


async def no_reference(*_: Any) -> None:
    """Stands in for a reference implementation a test says must not run."""
    raise AssertionError("the reference ran")
