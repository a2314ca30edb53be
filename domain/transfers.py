"""Stock transfers between warehouses: statuses, and the book of what is in flight.

A transfer reserves at its source, ships (the stock leaves the source and is in
transit), and is received at its destination, possibly in parts. Per shipped SKU
and lot the book holds

    shipped = received + written_off + outstanding       (outstanding >= 0)

`written_off` is a discrepancy closed with a reason (lost or damaged on the way):
recorded, never lost. The transfer completes when nothing is outstanding.
Quantities are base units."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from domain.errors import Amounts, Conflict, InvalidInput
from domain.stock import InvalidTransition


class TransferStatus(StrEnum):
    REQUESTED = "requested"  # recorded, reserving at the source
    RESERVED = "reserved"  # stock held at the source, waiting to ship
    IN_TRANSIT = "in_transit"
    PARTIALLY_RECEIVED = "partially_received"
    COMPLETED = "completed"  # every shipped unit received or written off
    CANCELED = "canceled"
    REJECTED = "rejected"  # the source could not reserve the stock

    @property
    def is_final(self) -> bool:
        return self in (TransferStatus.COMPLETED, TransferStatus.CANCELED, TransferStatus.REJECTED)

    @property
    def receivable(self) -> bool:
        return self in (TransferStatus.IN_TRANSIT, TransferStatus.PARTIALLY_RECEIVED)

    @property
    def shipped(self) -> bool:
        return self.receivable or self is TransferStatus.COMPLETED


class TransferStep(StrEnum):
    SHIP = "ship"
    CANCEL = "cancel"
    RECEIVE = "receive"


class NotYet(Conflict):
    """A step that comes early: what enables it is still under way (the stock is
    still being reserved, the goods are being shipped); it may apply soon."""

    code = "not-yet"


def check_step(
    step: TransferStep,
    transfer: str,
    status: TransferStatus,
    *,
    shipping: bool = False,
    canceling: bool = False,
) -> None:
    """Whether `step` may start on transfer `transfer` now. `shipping`: a shipment
    is under way; `canceling`: a cancel is. Raises InvalidTransition for a step
    that cannot apply (any more), NotYet for one that comes early."""
    name = f"transfer {transfer}"
    if step is TransferStep.RECEIVE:
        if status is TransferStatus.RESERVED and shipping and not canceling:
            raise NotYet(f"{name} is being shipped; it can be received once it has shipped")
        if not status.receivable:
            raise InvalidTransition(f"{name} is {status}; only a shipped transfer can be received")
        return
    if step is TransferStep.CANCEL:
        if status.shipped:
            raise InvalidTransition(f"{name} has shipped; it cannot be canceled")
        if status.is_final or canceling:
            raise InvalidTransition(f"{name} is already {status}")
        if shipping:  # the shipment may fail: then it can be canceled
            raise NotYet(f"{name} is being shipped")
        return
    if canceling:
        raise InvalidTransition(f"{name} is being canceled")
    if status is TransferStatus.REQUESTED:
        raise NotYet(f"{name} is still reserving its stock; it cannot ship yet")
    if status.shipped:
        raise InvalidTransition(f"{name} has already shipped")
    if status is not TransferStatus.RESERVED:
        raise InvalidTransition(f"{name} is {status}; it cannot ship")
    if shipping:
        raise NotYet(f"{name} is being shipped")


@dataclass
class InFlight:
    """One shipped SKU and lot of a transfer."""

    sku: str
    lot: str | None
    shipped: int
    received: int = 0
    written_off: int = 0

    @property
    def outstanding(self) -> int:
        return self.shipped - self.received - self.written_off


@dataclass(frozen=True)
class TransferReceiptLine:
    sku: str
    lot: str | None
    received: int
    reason: str | None = None  # closes the SKU and lot: the rest is written off
    serials: list[str] = field(default_factory=list)  # serial-tracked items: which arrived


@dataclass(frozen=True)
class Settled:
    """What one receipt line does: received now, and written off as a discrepancy."""

    sku: str
    lot: str | None
    received: int
    written_off: int
    reason: str | None
    serials: list[str] = field(default_factory=list)


@dataclass
class TransferBook:
    stock: list[InFlight] = field(default_factory=list)

    def find(self, sku: str, lot: str | None) -> InFlight | None:
        return next((s for s in self.stock if (s.sku, s.lot) == (sku, lot)), None)

    def ship(self, sku: str, lot: str | None, quantity: int) -> None:
        found = self.find(sku, lot)
        if found is None:
            self.stock.append(InFlight(sku, lot, quantity))
        else:
            found.shipped += quantity

    @property
    def outstanding(self) -> int:
        return sum(s.outstanding for s in self.stock)

    @property
    def shipped(self) -> int:
        return sum(s.shipped for s in self.stock)

    def check_receipt(self, lines: list[TransferReceiptLine]) -> list[Settled]:
        """What a receipt would settle; refuses it whole when any line is wrong
        (unknown SKU or lot, twice in one receipt, more than outstanding, nothing
        received without a reason)."""
        if not lines:
            raise InvalidInput("a receipt needs at least one line", field="lines")
        seen: set[tuple[str, str | None]] = set()
        settled = []
        for n, line in enumerate(lines):
            where = f"lines.{n}"
            stock = self.find(line.sku, line.lot)
            if stock is None:
                lot = f" lot {line.lot}" if line.lot else ""
                raise InvalidInput(
                    f"{line.sku}{lot} was not shipped on this transfer", field=f"{where}.sku"
                )
            if (line.sku, line.lot) in seen:
                raise InvalidInput(
                    f"{line.sku} lot {line.lot} appears twice in one receipt", field=where
                )
            seen.add((line.sku, line.lot))
            reason = (line.reason or "").strip() or None
            if line.received < 0:
                raise InvalidInput("received must not be negative", field=f"{where}.received")
            if line.received == 0 and reason is None:
                raise InvalidInput(
                    "receive a positive quantity, or give a reason to close the line",
                    field=f"{where}.received",
                )
            if stock.outstanding == 0:
                raise InvalidTransition(f"{line.sku} is already fully received or written off")
            if line.received > stock.outstanding:
                q = Amounts()
                raise InvalidTransition(
                    f"{line.sku}: {q(line.sku, line.received)} received, but only "
                    f"{q(line.sku, stock.outstanding)} of {q(line.sku, stock.shipped)} shipped "
                    "is outstanding",
                    amounts=q,
                )
            off = stock.outstanding - line.received if reason else 0
            settled.append(Settled(line.sku, line.lot, line.received, off, reason, line.serials))
        return settled

    def settle(self, settled: list[Settled]) -> None:
        for s in settled:
            stock = self.find(s.sku, s.lot)
            assert stock is not None
            stock.received += s.received
            stock.written_off += s.written_off


# -- stock commands and results (db/stock/transfers.py) -------------------------------


@dataclass(frozen=True)
class ShipTransfer:
    transfer_number: str
    allocation_ids: list[int]  # allocated stock at the source; all of it leaves


@dataclass(frozen=True)
class ReceiveTransfer:
    transfer_number: str
    location: str  # at the destination
    lines: list[TransferReceiptLine]


@dataclass(frozen=True)
class InFlightRecord:
    sku: str
    lot: str | None
    shipped: int
    received: int
    written_off: int


@dataclass(frozen=True)
class TransferStockResult:
    stock: list[InFlightRecord]  # the transfer's totals after the operation
    movement_ids: list[int]
    replayed: bool = False
