"""Orders: statuses, policies and the quantity book of each order line.

Every line keeps its ordered quantity in exactly one bucket at a time (DESIGN §5.5):

    ordered = pending + reserved + allocated + picked + packed     (open)
            + backordered + shipped + canceled

`pending` is demand not yet promised (before the first reservation, or handed back
after a short pick); `backordered` waits for stock to arrive. Quantities are base
units. The order workflow moves quantity between buckets only through `move`,
which refuses what would break the book."""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum

from domain.errors import InvalidInput
from domain.stock import InvalidTransition


class OrderStatus(StrEnum):
    RECEIVED = "received"  # recorded, nothing promised yet
    PENDING_PAYMENT = "pending_payment"  # stock reserved, waiting for payment
    ON_HOLD = "on_hold"
    BACKORDERED = "backordered"  # waiting for stock
    ALLOCATED = "allocated"
    IN_FULFILLMENT = "in_fulfillment"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"
    # after shipment, when goods come back (returns; the order's workflow has ended)
    PARTIALLY_RETURNED = "partially_returned"
    RETURNED = "returned"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {
        OrderStatus.SHIPPED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REJECTED,
        OrderStatus.PARTIALLY_RETURNED,
        OrderStatus.RETURNED,
    }
)


class FulfillmentPolicy(StrEnum):
    SHIP_COMPLETE = "ship_complete"  # nothing ships until every line is reserved
    SHIP_PARTIAL = "ship_partial"  # ship what is there; the rest follows
    BACKORDER = "backorder"  # lines ship complete: a short line waits, backordered, whole


class PaymentStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"


class RequestStatus(StrEnum):
    """A fulfillment request: one warehouse's share of the order."""

    REQUESTED = "requested"
    ACCEPTED = "accepted"
    PICKED = "picked"
    PACKED = "packed"
    SHIPPED = "shipped"
    CANCELED = "canceled"

    @property
    def is_final(self) -> bool:
        return self in (RequestStatus.SHIPPED, RequestStatus.CANCELED)


class AllocationStatus(StrEnum):
    ALLOCATED = "allocated"  # on its pick location
    PICKED = "picked"  # at the warehouse's staging location
    SHIPPED = "shipped"
    RELEASED = "released"  # given back (canceled, rejected, expired)


class HoldBlocks(StrEnum):
    """What a hold stops. `fulfillment`: the order's progress (reserve → allocate)
    and every warehouse step (accept, pick, pack, ship). `all`: that, and the
    shop's cancel too (an investigation freezes the order as it is)."""

    FULFILLMENT = "fulfillment"
    ALL = "all"


class Bucket(StrEnum):
    PENDING = "pending"
    RESERVED = "reserved"
    ALLOCATED = "allocated"
    PICKED = "picked"
    PACKED = "packed"
    BACKORDERED = "backordered"
    SHIPPED = "shipped"
    CANCELED = "canceled"


OPEN_BUCKETS = (Bucket.PENDING, Bucket.RESERVED, Bucket.ALLOCATED, Bucket.PICKED, Bucket.PACKED)


@dataclass
class LineBook:
    """Where each unit of one order line is."""

    ordered: int
    pending: int = 0
    reserved: int = 0
    allocated: int = 0
    picked: int = 0
    packed: int = 0
    backordered: int = 0
    shipped: int = 0
    canceled: int = 0

    @classmethod
    def new(cls, ordered: int) -> LineBook:
        if ordered <= 0:
            raise InvalidInput("an order line needs a positive quantity", field="quantity")
        return cls(ordered=ordered, pending=ordered)

    def get(self, bucket: Bucket) -> int:
        value: int = getattr(self, bucket.value)
        return value

    @property
    def open(self) -> int:
        return sum(self.get(bucket) for bucket in OPEN_BUCKETS)

    def move(self, source: Bucket, target: Bucket, quantity: int) -> None:
        """Move `quantity` from one bucket to another; refuses to go negative."""
        if quantity < 0:
            raise InvalidTransition(f"cannot move a negative quantity ({quantity})")
        if quantity > self.get(source):
            raise InvalidTransition(
                f"cannot move {quantity} from {source.value}: only {self.get(source)} there"
            )
        setattr(self, source.value, self.get(source) - quantity)
        setattr(self, target.value, self.get(target) + quantity)

    def balanced(self) -> bool:
        """Invariant 5: every unit is in one bucket and none is negative."""
        buckets = [getattr(self, f.name) for f in fields(self) if f.name != "ordered"]
        return all(b >= 0 for b in buckets) and sum(buckets) == self.ordered
