"""A serial moved from where it is not: the refusal names the shortage at the source,
whichever place sorts first, and changes nothing."""

import pytest

from db.stock.on_hand import move
from domain.stock import InsufficientStock, MoveStock
from tests.integration.stock_world import World


@pytest.mark.parametrize(("holder", "empty"), [("A1", "A2"), ("A2", "A1")])
async def test_a_serial_moved_from_where_it_is_not_into_where_it_is_is_short_at_the_source(
    world: World, holder: str, empty: str
) -> None:
    await world.receive("PHONE", 1, location=holder, serials=["SN-1"])
    ledger = await world.ledger_size()

    with pytest.raises(InsufficientStock) as short:
        await move(
            world.sessions,
            world.caller(),
            MoveStock("WH1", empty, holder, "PHONE", 1, serials=["SN-1"]),
        )

    [shortage] = short.value.shortages
    assert (shortage.available, shortage.requested) == (0, 1)
    assert await world.balance("PHONE", holder) == (1, 0)
    assert await world.balance("PHONE", empty) == (0, 0)
    assert await world.ledger_size() == ledger
