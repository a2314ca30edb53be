"""Stock operations on a real Postgres: effects, idempotency, and bad input that
changes nothing. The `world` fixture checks invariants 1-3 after each test."""

from datetime import date, timedelta

import pytest

from db.stock.fulfilling import pick, put_back, restock, scrap, ship
from db.stock.on_hand import adjust, cycle_count, move, receive
from db.stock.promising import deallocate, release, reserve
from domain.errors import DomainError, InvalidInput, NotFound
from domain.stock import (
    AdjustStock,
    CountLine,
    CycleCount,
    Deallocate,
    IdempotencyConflict,
    InsufficientStock,
    InvalidTransition,
    MovementType,
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

TODAY = date.today()


async def test_receipt_adds_stock_and_a_ledger_row(world: World) -> None:
    result = await receive(
        world.sessions,
        world.caller(),
        ReceiveStock("WH1", "A1", [ReceiptLine("WIDGET", 10), ReceiptLine("FABRIC", 11)], "PO-1"),
    )
    assert [(m.type, m.sku, m.quantity, m.to_location) for m in result.movements] == [
        (MovementType.RECEIPT, "WIDGET", 10, "A1"),
        (MovementType.RECEIPT, "FABRIC", 11, "A1"),
    ]
    assert await world.balance("WIDGET", "A1") == (10, 0)
    assert (await world.level("FABRIC"))["on_hand"] == 11
    assert await world.ledger_size() == 2


async def test_a_repeated_key_returns_the_first_result_and_changes_nothing(world: World) -> None:
    command = ReceiveStock("WH1", "A1", [ReceiptLine("WIDGET", 5)])
    caller = world.caller("receipt-1")
    first = await receive(world.sessions, caller, command)
    again = await receive(world.sessions, caller, command)
    assert not first.replayed and again.replayed
    assert again.movements == first.movements
    assert await world.balance("WIDGET", "A1") == (5, 0)
    assert await world.ledger_size() == 1


async def test_a_key_reused_for_another_request_is_refused(world: World) -> None:
    caller = world.caller("receipt-2")
    await receive(world.sessions, caller, ReceiveStock("WH1", "A1", [ReceiptLine("WIDGET", 5)]))
    with pytest.raises(IdempotencyConflict):
        await receive(world.sessions, caller, ReceiveStock("WH1", "A1", [ReceiptLine("WIDGET", 6)]))
    assert await world.balance("WIDGET", "A1") == (5, 0)


@pytest.mark.parametrize(
    ("line", "error", "field"),
    [
        (ReceiptLine("NOPE", 1), NotFound, "lines.1.sku"),
        (ReceiptLine("WIDGET", 0), InvalidInput, "lines.1.quantity"),
        (ReceiptLine("MILK", 3), InvalidInput, "lines.1.lot"),
        (ReceiptLine("MILK", 3, "L1"), InvalidInput, "lines.1.expires_at"),
        (ReceiptLine("WIDGET", 3, "L1"), InvalidInput, "lines.1.lot"),
        (ReceiptLine("PHONE", 2, serials=["S1"]), InvalidInput, "lines.1.serials"),
        (ReceiptLine("PHONE", 2, serials=["S1", "S1"]), InvalidInput, "lines.1.serials"),
    ],
)
async def test_a_bad_receipt_line_refuses_the_whole_receipt(
    world: World, line: ReceiptLine, error: type[DomainError], field: str
) -> None:
    command = ReceiveStock("WH1", "A1", [ReceiptLine("WIDGET", 4), line])
    with pytest.raises(error) as raised:
        await receive(world.sessions, world.caller(), command)
    assert raised.value.field == field
    assert await world.balance("WIDGET", "A1") == (0, 0)
    assert await world.ledger_size() == 0


@pytest.mark.parametrize(
    ("warehouse", "location", "field"), [("WH9", "A1", "warehouse"), ("WH1", "Z9", "location")]
)
async def test_unknown_places_are_refused(
    world: World, warehouse: str, location: str, field: str
) -> None:
    with pytest.raises(NotFound) as raised:
        await receive(
            world.sessions,
            world.caller(),
            ReceiveStock(warehouse, location, [ReceiptLine("WIDGET", 1)]),
        )
    assert raised.value.field == field
    assert await world.ledger_size() == 0


async def test_serials_are_received_one_balance_each_and_never_twice(world: World) -> None:
    await world.receive("PHONE", 2, serials=["SN-1", "SN-2"])
    assert await world.balance("PHONE", "A1") == (2, 0)
    with pytest.raises(DomainError, match="already in stock"):
        await world.receive("PHONE", 1, location="A2", serials=["SN-2"])
    assert await world.ledger_size() == 2


async def test_adjustments_need_a_reason_and_cannot_take_promised_stock(world: World) -> None:
    await world.receive("WIDGET", 10)
    with pytest.raises(InvalidInput) as raised:
        await adjust(world.sessions, world.caller(), AdjustStock("WH1", "A1", "WIDGET", -1, " "))
    assert raised.value.field == "reason"
    await world.reserve("WIDGET", 8, source_type="manual")
    with pytest.raises(InsufficientStock) as short:
        await adjust(
            world.sessions, world.caller(), AdjustStock("WH1", "A1", "WIDGET", -3, "damaged")
        )
    assert short.value.shortages[0].available == 2
    await adjust(world.sessions, world.caller(), AdjustStock("WH1", "A1", "WIDGET", -2, "damaged"))
    assert await world.level("WIDGET") == {
        "on_hand": 8,
        "reserved": 8,
        "allocated": 0,
        "in_transit": 0,
        "incoming": 0,
    }


async def test_a_move_needs_the_stock_at_its_source(world: World) -> None:
    await world.receive("WIDGET", 4, location="A1")
    with pytest.raises(InsufficientStock) as short:
        await move(world.sessions, world.caller(), MoveStock("WH1", "A2", "B1", "WIDGET", 1))
    assert short.value.shortages[0].location == "A2"
    await move(world.sessions, world.caller(), MoveStock("WH1", "A1", "B1", "WIDGET", 3))
    assert await world.balance("WIDGET", "A1") == (1, 0)
    assert await world.balance("WIDGET", "B1") == (3, 0)
    assert (await world.level("WIDGET"))["on_hand"] == 4


async def test_a_cycle_count_adjusts_only_the_differences(world: World) -> None:
    await world.receive("WIDGET", 10)
    await world.receive("BOLT", 5, lot="B-1")
    result = await cycle_count(
        world.sessions,
        world.caller(),
        CycleCount(
            "WH1",
            "A1",
            [CountLine("WIDGET", 7), CountLine("BOLT", 5, "B-1"), CountLine("FABRIC", 8)],
            "annual count",
        ),
    )
    assert [(m.sku, m.quantity, m.from_location, m.to_location) for m in result.movements] == [
        ("WIDGET", 3, "A1", None),
        ("FABRIC", 8, None, "A1"),
    ]
    assert await world.balance("WIDGET", "A1") == (7, 0)


async def test_a_short_reservation_names_every_short_line_and_reserves_nothing(
    world: World,
) -> None:
    await world.receive("WIDGET", 5)
    await world.receive("FABRIC", 4)
    lines = [
        ReserveLine("WH1", "WIDGET", 6),
        ReserveLine("WH1", "FABRIC", 4),
        ReserveLine("WH1", "GADGET", 1),
    ]
    with pytest.raises(InsufficientStock) as short:
        await reserve(world.sessions, world.caller(), ReserveStock(lines, "manual"))
    assert [(s.line, s.sku, s.requested, s.available) for s in short.value.shortages] == [
        (0, "WIDGET", 6, 5),
        (2, "GADGET", 1, 0),
    ]
    assert (await world.level("FABRIC"))["reserved"] == 0


async def test_fefo_allocation_takes_the_earliest_expiry_and_skips_expired(world: World) -> None:
    await world.receive("MILK", 5, lot="OLD", expires_on=TODAY - timedelta(days=1))
    await world.receive("MILK", 5, lot="LATE", expires_on=TODAY + timedelta(days=30), location="A2")
    await world.receive("MILK", 3, lot="SOON", expires_on=TODAY + timedelta(days=3), location="B1")
    reserved = await world.reserve("MILK", 6, source_type="order", source_id="SO-1")
    result = await world.allocate(reserved.id)
    assert [(a.lot, a.location, a.quantity) for a in result.allocations] == [
        ("SOON", "B1", 3),
        ("LATE", "A2", 3),
    ]
    assert result.shortfall == 0
    assert result.reservation is not None and result.reservation.status == "allocated"
    assert await world.level("MILK") == {
        "on_hand": 13,
        "reserved": 0,
        "allocated": 6,
        "in_transit": 0,
        "incoming": 0,
    }


async def test_allocation_leaves_what_it_cannot_place_reserved(world: World) -> None:
    await world.receive("WIDGET", 4, location="DOCK")  # received, not put away: not pickable
    await world.receive("WIDGET", 2, location="A1")
    reserved = await world.reserve("WIDGET", 5, source_type="order")
    result = await world.allocate(reserved.id)
    assert [(a.location, a.quantity) for a in result.allocations] == [("A1", 2)]
    assert result.shortfall == 3
    assert await world.level("WIDGET") == {
        "on_hand": 6,
        "reserved": 3,
        "allocated": 2,
        "in_transit": 0,
        "incoming": 0,
    }


async def test_a_lot_pinned_reservation_keeps_others_off_that_lot(world: World) -> None:
    await world.receive("BOLT", 5, lot="X")
    await world.receive("BOLT", 5, lot="Y", location="A2")
    await world.reserve("BOLT", 5, lot="X", source_type="manual")
    other = await world.reserve("BOLT", 5, source_type="order")
    result = await world.allocate(other.id)
    assert {(a.lot, a.quantity) for a in result.allocations} == {("Y", 5)}
    with pytest.raises(InsufficientStock):
        await world.reserve("BOLT", 1, lot="X", source_type="manual")


async def test_pick_short_then_ship_and_put_back(world: World) -> None:
    await world.receive("WIDGET", 10)
    reserved = await world.reserve("WIDGET", 6, source_type="order", source_id="SO-9")
    allocated = await world.allocate(reserved.id)
    allocation_id = allocated.allocations[0].id
    picked = await pick(world.sessions, world.caller(), PickAllocation(allocation_id, 4, "STAGE"))
    at_stage, rest = picked.allocations
    assert (at_stage.location, at_stage.quantity, at_stage.status) == ("STAGE", 4, "picked")
    assert (rest.location, rest.quantity, picked.shortfall) == ("A1", 2, 2)
    assert await world.balance("WIDGET", "STAGE") == (4, 4)

    with pytest.raises(InvalidTransition):
        await ship(world.sessions, world.caller(), ShipAllocation(allocation_id))
    shipped = await ship(world.sessions, world.caller(), ShipAllocation(at_stage.id))
    assert shipped.allocations[0].quantity == 4
    assert await world.level("WIDGET") == {
        "on_hand": 6,
        "reserved": 0,
        "allocated": 2,
        "in_transit": 0,
        "incoming": 0,
    }

    back = await deallocate(world.sessions, world.caller(), Deallocate(allocation_id))
    assert back.reservation is not None and back.reservation.quantity == 2
    await release(world.sessions, world.caller(), ReleaseReservation(reserved.id))
    assert await world.level("WIDGET") == {
        "on_hand": 6,
        "reserved": 0,
        "allocated": 0,
        "in_transit": 0,
        "incoming": 0,
    }


async def test_put_back_returns_picked_goods_to_free_stock(world: World) -> None:
    await world.receive("WIDGET", 3)
    reserved = await world.reserve("WIDGET", 3, source_type="order")
    allocated = await world.allocate(reserved.id)
    picked = await pick(
        world.sessions, world.caller(), PickAllocation(allocated.allocations[0].id, 3, "STAGE")
    )
    await put_back(world.sessions, world.caller(), PutBack(picked.allocations[0].id, "B1"))
    assert await world.balance("WIDGET", "B1") == (3, 0)
    assert await world.level("WIDGET") == {
        "on_hand": 3,
        "reserved": 0,
        "allocated": 0,
        "in_transit": 0,
        "incoming": 0,
    }


async def test_restock_and_scrap_write_their_own_ledger_types(world: World) -> None:
    returned = ReceiveStock("WH1", "A1", [ReceiptLine("WIDGET", 2)], "RMA-1")
    restocked = await restock(world.sessions, world.caller(), returned)
    crushed = AdjustStock("WH1", "A1", "WIDGET", 1, "crushed")
    scrapped = await scrap(world.sessions, world.caller(), crushed)
    assert restocked.movements[0].type is MovementType.RETURN_RESTOCK
    assert scrapped.movements[0].type is MovementType.SCRAP
    assert await world.balance("WIDGET", "A1") == (1, 0)


async def test_releasing_twice_is_an_invalid_transition(world: World) -> None:
    await world.receive("WIDGET", 3)
    reserved = await world.reserve("WIDGET", 3, source_type="manual")
    rid = reserved.id
    await release(world.sessions, world.caller(), ReleaseReservation(rid))
    with pytest.raises(InvalidTransition):
        await release(world.sessions, world.caller(), ReleaseReservation(rid))


async def test_another_tenants_reservation_is_not_found(world: World, sessions: object) -> None:
    from tests.integration.stock_world import make_world

    await world.receive("WIDGET", 3)
    reserved = await world.reserve("WIDGET", 3, source_type="manual")
    stranger = await make_world(world.sessions)
    with pytest.raises(NotFound):
        await release(world.sessions, stranger.caller(), ReleaseReservation(reserved.id))
    assert (await world.level("WIDGET"))["reserved"] == 3


async def test_expiry_tracked_lots_can_be_counted_and_adjusted_up(world: World) -> None:
    await world.receive("MILK", 4, lot="M-1", expires_on=TODAY + timedelta(days=9))
    counted = CycleCount("WH1", "A1", [CountLine("MILK", 6, "M-1")], "count")
    result = await cycle_count(world.sessions, world.caller(), counted)
    assert [(m.quantity, m.to_location) for m in result.movements] == [(2, "A1")]
    found = AdjustStock("WH1", "A1", "MILK", 1, "found behind shelf", "M-1")
    await adjust(world.sessions, world.caller(), found)
    assert await world.balance("MILK", "A1") == (7, 0)
    with pytest.raises(InvalidInput) as raised:  # a new lot still needs its expiry
        await adjust(
            world.sessions, world.caller(), AdjustStock("WH1", "A1", "MILK", 1, "x", "M-2")
        )
    assert raised.value.field == "expires_at"


async def test_a_serial_on_two_lines_of_one_receipt_is_refused(world: World) -> None:
    lines = [ReceiptLine("PHONE", 1, serials=["SN-9"]), ReceiptLine("PHONE", 1, serials=["SN-9"])]
    with pytest.raises(InvalidInput) as raised:
        await receive(world.sessions, world.caller(), ReceiveStock("WH1", "A1", lines))
    assert raised.value.field == "lines.1.serials"
    assert await world.ledger_size() == 0


async def test_deallocating_after_the_reservation_was_released_frees_the_stock(
    world: World,
) -> None:
    await world.receive("WIDGET", 5)
    reserved = await world.reserve("WIDGET", 5)
    allocated = await world.allocate(reserved.id, quantity=3)
    await release(world.sessions, world.caller(), ReleaseReservation(reserved.id))  # the other 2
    back = await deallocate(world.sessions, world.caller(), Deallocate(allocated.allocations[0].id))
    assert back.reservation is not None
    assert (back.reservation.status, back.reservation.quantity) == ("released", 0)
    assert await world.level("WIDGET") == {
        "on_hand": 5,
        "reserved": 0,
        "allocated": 0,
        "in_transit": 0,
        "incoming": 0,
    }


async def test_a_fully_picked_allocation_is_closed(world: World) -> None:
    await world.receive("WIDGET", 2)
    reserved = await world.reserve("WIDGET", 2)
    allocated = await world.allocate(reserved.id)
    source = allocated.allocations[0].id
    picked = await pick(world.sessions, world.caller(), PickAllocation(source, 2, "STAGE"))
    assert [(a.status, a.quantity) for a in picked.allocations] == [("picked", 2), ("picked", 0)]
    with pytest.raises(InvalidTransition):
        await pick(world.sessions, world.caller(), PickAllocation(source, 1, "STAGE"))
