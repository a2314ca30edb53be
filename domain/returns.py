"""Returns (RMAs): the pure rules. How much of an order line may still be returned,
what a receipt may say, and what the refund is."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from domain.errors import Amounts, Conflict, InvalidInput


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
    sku: str
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
            q = Amounts()
            raise InvalidInput(
                f"line {line_id!r}: {q(line.sku, quantity)} asked, {q(line.sku, line.left)} "
                f"returnable (shipped {q(line.sku, line.shipped)}, already returned or "
                f"requested {q(line.sku, line.claimed)})",
                field=f"lines.{n}.quantity",
                amounts=q,
            )


@dataclass(frozen=True)
class ReceivedLine:
    line_id: str
    received: int
    accepted: int
    disposition: Disposition
    lot: str | None = None


def check_receipt(
    requested: dict[str, int], lines: list[ReceivedLine], skus: dict[str, str]
) -> None:
    """A receipt names requested lines once each; accepted <= received <= requested.
    (`skus`: each line's SKU, for the quantities a refusal names.)"""
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
        q, sku = Amounts(), skus[line.line_id]
        if line.received > requested[line.line_id]:
            raise InvalidInput(
                f"line {line.line_id!r}: {q(sku, line.received)} received, only "
                f"{q(sku, requested[line.line_id])} requested",
                field=f"{field}.received",
                amounts=q,
            )
        if line.accepted > line.received:
            raise InvalidInput(
                f"line {line.line_id!r}: {q(sku, line.accepted)} accepted of "
                f"{q(sku, line.received)} received",
                field=f"{field}.accepted",
                amounts=q,
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
