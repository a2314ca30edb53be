"""Returns (RMAs): the pure rules. How much of an order line may still be returned,
what a receipt may say, and what the refund is."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from domain.errors import Conflict, InvalidInput


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    RECEIVED = "received"
    CLOSED = "closed"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        return self in (ReturnStatus.REJECTED, ReturnStatus.CLOSED, ReturnStatus.EXPIRED)


class Disposition(StrEnum):
    RESTOCK = "restock"  # back to stock (into a quarantine lot if the item needs inspection)
    DISPOSE = "dispose"  # scrapped on arrival
    REPAIR = "repair"  # held aside in a lot on hold


@dataclass(frozen=True)
class Returnable:
    """One order line as returns see it (base units)."""

    line_id: str
    shipped: int
    claimed: int  # held by other returns: requested while open, received once received

    @property
    def left(self) -> int:
        return max(self.shipped - self.claimed, 0)


def check_request(lines: dict[str, Returnable], requested: list[tuple[str, int]]) -> None:
    """Every requested line exists, appears once, and asks for at most what is left."""
    if not requested:
        raise InvalidInput("a return needs at least one line", field="lines")
    seen: set[str] = set()
    for n, (line_id, quantity) in enumerate(requested):
        if line_id in seen:
            raise InvalidInput(f"line {line_id!r} appears twice", field=f"lines.{n}.line_id")
        seen.add(line_id)
        line = lines.get(line_id)
        if line is None:
            raise InvalidInput(f"the order has no line {line_id!r}", field=f"lines.{n}.line_id")
        if quantity <= 0:
            raise InvalidInput("quantity must be positive", field=f"lines.{n}.quantity")
        if quantity > line.left:
            raise InvalidInput(
                f"line {line_id!r}: {quantity} asked, {line.left} returnable "
                f"(shipped {line.shipped}, already returned or requested {line.claimed})",
                field=f"lines.{n}.quantity",
            )


@dataclass(frozen=True)
class ReceivedLine:
    line_id: str
    received: int
    accepted: int
    disposition: Disposition
    lot: str | None = None


def check_receipt(requested: dict[str, int], lines: list[ReceivedLine]) -> None:
    """A receipt names requested lines once each; accepted <= received <= requested."""
    if not lines:
        raise InvalidInput("a receipt needs at least one line", field="lines")
    seen: set[str] = set()
    for n, line in enumerate(lines):
        field = f"lines.{n}"
        if line.line_id in seen:
            raise InvalidInput(f"line {line.line_id!r} appears twice", field=f"{field}.line_id")
        seen.add(line.line_id)
        if line.line_id not in requested:
            raise InvalidInput(f"the return has no line {line.line_id!r}", field=f"{field}.line_id")
        if line.received < 0 or line.accepted < 0:
            raise InvalidInput("quantities must not be negative", field=f"{field}.received")
        if line.received > requested[line.line_id]:
            raise InvalidInput(
                f"line {line.line_id!r}: {line.received} received, only "
                f"{requested[line.line_id]} requested",
                field=f"{field}.received",
            )
        if line.accepted > line.received:
            raise InvalidInput(
                f"line {line.line_id!r}: {line.accepted} accepted of {line.received} received",
                field=f"{field}.accepted",
            )


def refund(lines: list[tuple[int, Decimal]], unit_size: list[int]) -> Decimal:
    """Accepted base units x the order line's unit price (per display unit)."""
    total = sum(
        (
            Decimal(accepted) / size * price
            for (accepted, price), size in zip(lines, unit_size, strict=True)
        ),
        Decimal(0),
    )
    return total.quantize(Decimal("0.01"))


def require(status: ReturnStatus, *allowed: ReturnStatus, step: str) -> None:
    if status not in allowed:
        raise Conflict(f"cannot {step} a return that is {status}")


def held_lot_name(rma_number: str, lot: str | None, disposition: Disposition) -> str:
    """The lot returned units wait in: `RMA-7-Q` (quarantine) or `RMA-7-R` (repair) for
    RMA `RMA-7` (or `7`); `L1/RMA-7-Q` when they came from lot L1."""
    rma = rma_number if rma_number.upper().startswith("RMA") else f"RMA-{rma_number}"
    name = f"{rma}-{'R' if disposition is Disposition.REPAIR else 'Q'}"
    return f"{lot}/{name}" if lot else name
