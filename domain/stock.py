"""Stock operations as data: one command in, one result out, all quantities in
base units. The API converts display quantities at the edge; activities pass
these straight through. Business keys (sku, warehouse and location codes, lot
numbers) identify things; the tenant comes from the caller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from domain.errors import Amounts, Conflict


class MovementType(StrEnum):
    RECEIPT = "receipt"
    PUTAWAY = "putaway"
    MOVE = "move"
    PICK = "pick"
    PACK = "pack"
    SHIP = "ship"
    ADJUST = "adjust"
    CYCLE_COUNT = "cycle_count"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    RETURN_RESTOCK = "return_restock"
    PUT_BACK = "put_back"
    SCRAP = "scrap"


@dataclass(frozen=True)
class Shortage:
    """One line that cannot be served: where, what, how much is there."""

    line: int
    sku: str
    warehouse: str
    location: str | None
    lot: str | None
    requested: int
    available: int


def describe_shortages(
    shortages: list[Shortage], quantity: Callable[[str, int], str] = lambda sku, q: str(q)
) -> str:
    """One sentence naming every short line; `quantity(sku, base)` formats amounts."""
    return "not enough stock: " + "; ".join(
        f"line {s.line}: {s.sku} at {s.warehouse}"
        + (f"/{s.location}" if s.location else "")
        + (f" lot {s.lot}" if s.lot else "")
        + f" needs {quantity(s.sku, s.requested)}, {quantity(s.sku, s.available)} available"
        for s in shortages
    )


class InsufficientStock(Conflict):
    code = "insufficient-stock"

    def __init__(self, shortages: list[Shortage]) -> None:
        q = Amounts()
        super().__init__(describe_shortages(shortages, q), field="lines", amounts=q)
        self.shortages = shortages


class IdempotencyConflict(Conflict):
    code = "idempotency-key-reused"


class InvalidTransition(Conflict):
    code = "invalid-transition"


# -- commands ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptLine:
    sku: str
    quantity: int
    lot: str | None = None
    expires_on: date | None = None
    manufactured_on: date | None = None
    serials: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReceiveStock:
    warehouse: str
    location: str
    lines: list[ReceiptLine]
    reference: str | None = None
    movement_type: MovementType = MovementType.RECEIPT
    reference_type: str = "receipt"


@dataclass(frozen=True)
class AdjustStock:
    warehouse: str
    location: str
    sku: str
    delta: int
    reason: str
    lot: str | None = None
    serials: list[str] = field(default_factory=list)
    movement_type: MovementType = MovementType.ADJUST


@dataclass(frozen=True)
class MoveStock:
    warehouse: str
    from_location: str
    to_location: str
    sku: str
    quantity: int
    lot: str | None = None
    serials: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CountLine:
    sku: str
    counted: int
    lot: str | None = None


@dataclass(frozen=True)
class CycleCount:
    warehouse: str
    location: str
    counts: list[CountLine]
    reason: str


@dataclass(frozen=True)
class ReserveLine:
    warehouse: str
    sku: str
    quantity: int
    lot: str | None = None


@dataclass(frozen=True)
class ReserveStock:
    lines: list[ReserveLine]
    source_type: str
    source_id: str | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class ReleaseReservation:
    reservation_id: int
    quantity: int | None = None  # None: all that is still reserved
    expired: bool = False  # released because its expires_at passed


@dataclass(frozen=True)
class DueReservation:
    tenant_id: int
    reservation_id: int


@dataclass(frozen=True)
class AllocateReservation:
    reservation_id: int
    quantity: int | None = None  # None: all that is still reserved
    reference_type: str | None = None  # default: the reservation's source
    reference_id: str | None = None


@dataclass(frozen=True)
class Deallocate:
    allocation_id: int
    quantity: int | None = None  # None: all of it; goes back to its reservation


@dataclass(frozen=True)
class PickAllocation:
    allocation_id: int
    quantity: int  # less than allocated is a short pick; the rest stays allocated
    to_location: str  # staging


@dataclass(frozen=True)
class ShipAllocation:
    allocation_id: int  # a picked allocation; all of it leaves


@dataclass(frozen=True)
class PutBack:
    allocation_id: int  # a picked allocation
    to_location: str


# -- results ----------------------------------------------------------------------


@dataclass(frozen=True)
class MovementRecord:
    id: int
    type: MovementType
    sku: str
    quantity: int
    from_location: str | None
    to_location: str | None
    lot: str | None
    serial: str | None


@dataclass(frozen=True)
class MovementsResult:
    movements: list[MovementRecord]
    replayed: bool = False


@dataclass(frozen=True)
class ReservationRecord:
    id: int
    warehouse: str
    sku: str
    lot: str | None
    requested: int
    quantity: int
    status: str


@dataclass(frozen=True)
class ReservationsResult:
    reservations: list[ReservationRecord]
    replayed: bool = False


@dataclass(frozen=True)
class AllocationRecord:
    id: int
    reservation_id: int | None
    warehouse: str
    location: str
    sku: str
    lot: str | None
    serial: str | None
    quantity: int
    status: str


@dataclass(frozen=True)
class AllocationResult:
    reservation: ReservationRecord | None
    allocations: list[AllocationRecord]
    shortfall: int = 0
    replayed: bool = False


@dataclass(frozen=True)
class ReturnReceiptLine:
    """One returned order line as it arrived (base units). Only `accepted` units
    enter stock; received - accepted were refused (no stock, no refund)."""

    line_id: str
    sku: str
    received: int
    accepted: int
    disposition: str  # restock | dispose | repair
    lot: str | None = None
    serials: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReceiveReturn:
    tenant_return_id: int  # returns.id
    rma_number: str
    warehouse: str
    location: str
    lines: list[ReturnReceiptLine]


@dataclass(frozen=True)
class ReleaseLot:
    """Inspection passed (quarantine) or repair done (hold): the lot's stock becomes
    available everywhere it is."""

    sku: str
    lot: str
    reason: str


@dataclass(frozen=True)
class LotReleased:
    sku: str
    lot: str
    previous_status: str
    released: dict[str, int]  # warehouse code: base units made available
    replayed: bool = False


@dataclass(frozen=True, kw_only=True)
class HoldLot:
    """A bad batch stopped: the lot's stock leaves `available` everywhere it is, and
    what was allocated from it (not yet picked) is pulled from its orders."""

    sku: str
    lot: str
    reason: str
    status: str = "hold"  # hold | quarantine


@dataclass(frozen=True, kw_only=True)
class PulledStock:
    """An allocation of a held lot: pulled (released; its order asks again), or
    picked already (still promised: the goods wait at staging for a decision)."""

    allocation_id: int
    warehouse: str
    quantity: int  # base units
    reference_type: str
    reference_id: str | None


@dataclass(frozen=True, kw_only=True)
class LotHeld:
    sku: str
    lot: str
    status: str
    previous_status: str
    held: dict[str, int]  # warehouse code: base units that left `available` for `held`
    pulled: list[PulledStock]
    picked: list[PulledStock]  # picked goods of the lot at staging: not pulled
    released_reservations: list[int]  # reservations pinned to the lot, released
    replayed: bool = False


def pulled_orders(pulled: list[PulledStock]) -> dict[str, list[int]]:
    """Order number: the ids of its pulled allocations (an order's allocations carry
    the reference `<order number>/<line id>`)."""
    orders: dict[str, list[int]] = {}
    for one in pulled:
        if one.reference_type == "order" and one.reference_id:
            number = one.reference_id.rpartition("/")[0] or one.reference_id
            orders.setdefault(number, []).append(one.allocation_id)
    return orders


@dataclass(frozen=True, kw_only=True)
class ExpireLot:
    """A lot past its expiry date, to be marked expired (the lot-expiry schedule)."""

    tenant_id: int
    lot_id: int


@dataclass(frozen=True, kw_only=True)
class LotExpired:
    sku: str
    lot: str
    held: dict[str, int]  # warehouse code: base units that left `available` for `held`
    replayed: bool = False


@dataclass(frozen=True)
class ReturnReceived:
    movements: list[MovementRecord]
    lots: dict[str, str | None]  # line id: the lot its accepted units went into
    replayed: bool = False
