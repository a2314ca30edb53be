"""Purchase orders: what a line still brings, how much a receipt may take (the
over-receipt tolerance), when a PO is late and when it is done. Pure rules; the
stock operations (db/stock/purchasing.py) and the workflow apply them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from domain.errors import Conflict, InvalidInput


class PurchaseOrderStatus(StrEnum):
    OPEN = "open"  # lines outstanding: part of `incoming` at its warehouse
    RECEIVED = "received"  # every line fully received
    CLOSED = "closed"  # closed short: what was outstanding no longer comes
    CANCELED = "canceled"  # nothing was received; nothing comes
    REJECTED = "rejected"  # could not be recorded (workflow only: no row exists)

    @property
    def is_final(self) -> bool:
        return self is not PurchaseOrderStatus.OPEN


class OverReceipt(Conflict):
    code = "over-receipt"


class PurchaseOrderClosed(Conflict):
    code = "purchase-order-closed"


@dataclass(frozen=True, kw_only=True)
class PoLine:
    """One line's books, in base units."""

    line_no: int
    sku: str
    ordered: int
    received: int
    expected_at: datetime

    @property
    def outstanding(self) -> int:
        """What the line still brings (never below zero: an over-receipt within the
        tolerance brings nothing more)."""
        return max(self.ordered - self.received, 0)

    def receivable(self, tolerance: Decimal) -> int:
        """The most this line may still take: received + quantity <= ordered * (1 + tol)."""
        limit = (Decimal(self.ordered) * (1 + tolerance)).to_integral_value(ROUND_FLOOR)
        return max(int(limit) - self.received, 0)


@dataclass(frozen=True, kw_only=True)
class PoReceiptLine:
    line_no: int
    quantity: int  # base units, > 0


def check_receipt(
    lines: Sequence[PoLine], receipt: Iterable[PoReceiptLine], tolerance: Decimal
) -> None:
    """Refuse a receipt that takes any line beyond its tolerance, naming every such
    line (`lines.N` is the receipt's N-th line), or a line received twice."""
    by_no = {line.line_no: line for line in lines}
    seen: set[int] = set()
    over: list[str] = []
    for n, r in enumerate(receipt):
        if r.line_no in seen:
            raise InvalidInput(f"PO line {r.line_no} is received twice", field=f"lines.{n}")
        seen.add(r.line_no)
        line = by_no.get(r.line_no)
        if line is None:
            raise InvalidInput(f"the PO has no line {r.line_no}", field=f"lines.{n}.line_no")
        if r.quantity > line.receivable(tolerance):
            over.append(
                f"lines.{n} (PO line {line.line_no}, {line.sku}): {r.quantity} would bring "
                f"{line.received + r.quantity} of {line.ordered} ordered; at most "
                f"{line.receivable(tolerance)} more may be received"
            )
    if over:
        raise OverReceipt("over-receipt beyond the tolerance: " + "; ".join(over), field="lines")


def released_by_receipt(line: PoLine, quantity: int) -> int:
    """How much of `incoming` a receipt of `quantity` settles: what it still brought."""
    return min(quantity, line.outstanding)


def fully_received(lines: Sequence[PoLine]) -> bool:
    return all(line.outstanding == 0 for line in lines)


def next_due(lines: Sequence[PoLine]) -> datetime | None:
    """The earliest expected date among lines with something outstanding."""
    return min((line.expected_at for line in lines if line.outstanding), default=None)


def late_lines(lines: Sequence[PoLine], now: datetime) -> list[PoLine]:
    """Lines past their expected date with something still outstanding."""
    return [line for line in lines if line.outstanding and line.expected_at <= now]


def check_expected_at(value: datetime, field: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput("expected_at needs a time zone (e.g. 2026-12-24T09:00:00Z)", field=field)
