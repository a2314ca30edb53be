"""The reconcile function finds each kind of drift (so the clean reports of the
other tests mean something)."""

import pytest
from sqlalchemy import text

from db.stock.promising import allocate, reserve
from domain.stock import AllocateReservation, ReserveLine, ReserveStock
from tests.integration.stock_world import World, make_world

CORRUPTIONS = {
    "stock level on_hand differs from its balances": (
        "UPDATE stock_levels SET on_hand = on_hand + 1 WHERE tenant_id = :t",
        2,
    ),
    "balance on_hand differs from its ledger": (
        "UPDATE movements SET quantity = quantity + 1 WHERE tenant_id = :t",
        2,
    ),
    "reserved differs from open reservations": (
        "UPDATE reservations SET quantity = quantity - 1 WHERE tenant_id = :t",
        3,
    ),
    "balance allocated differs from its open allocations": (
        "UPDATE allocations SET quantity = quantity - 1 WHERE tenant_id = :t",
        3,
    ),
    "lot level on_hand differs from its balances": (
        "UPDATE lot_levels SET on_hand = on_hand + 1 WHERE tenant_id = :t",
        2,
    ),
    "lot allocated differs from its balances": (
        "UPDATE lot_levels SET allocated = allocated - 1 WHERE tenant_id = :t",
        3,
    ),
    "stock level held differs from its balances in lots not available": (
        "UPDATE lots SET status = 'hold' WHERE tenant_id = :t",
        2,
    ),
}


@pytest.mark.parametrize("what", list(CORRUPTIONS))
async def test_reconcile_reports_drift(sessions: object, what: str) -> None:
    world: World = await make_world(sessions)  # type: ignore[arg-type]
    await world.receive("BOLT", 10, lot="L1")
    reserved = await reserve(
        world.sessions, world.caller(), ReserveStock([ReserveLine("WH1", "BOLT", 6)], "order")
    )
    await allocate(
        world.sessions, world.caller(), AllocateReservation(reserved.reservations[0].id, quantity=4)
    )
    assert await world.violations() == []

    statement, invariant = CORRUPTIONS[what]
    async with world.sessions() as session, session.begin():
        await session.execute(text(statement), {"t": world.tenant_id})

    found = await world.violations()
    assert what in {v.what for v in found}
    assert all(v.invariant == invariant for v in found if v.what == what)


async def test_reconcile_of_one_tenant_ignores_others(sessions: object) -> None:
    broken: World = await make_world(sessions)  # type: ignore[arg-type]
    clean: World = await make_world(sessions)  # type: ignore[arg-type]
    await broken.receive("WIDGET", 3)
    await clean.receive("WIDGET", 3)
    async with broken.sessions() as session, session.begin():
        await session.execute(
            text("UPDATE stock_levels SET on_hand = 7 WHERE tenant_id = :t"),
            {"t": broken.tenant_id},
        )
    assert await clean.violations() == []
    assert len(await broken.violations()) == 1
