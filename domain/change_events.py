"""Which events a change makes, for returns, transfers and stock levels: pure rules
over the state before and after one write (the outbox writes what they answer in the
write's transaction; a write that changed nothing passes the same state twice and
makes no event)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.events import EventType
from domain.returns import ReturnStatus
from domain.transfers import TransferStatus

_RETURN_EVENTS: dict[ReturnStatus, EventType | None] = {
    ReturnStatus.REQUESTED: EventType.RETURN_REQUESTED,
    ReturnStatus.APPROVED: EventType.RETURN_APPROVED,
    ReturnStatus.REJECTED: EventType.RETURN_REJECTED,
    ReturnStatus.RECEIVED: EventType.RETURN_RECEIVED,
    ReturnStatus.CLOSED: EventType.RETURN_CLOSED,
    ReturnStatus.EXPIRED: None,  # the catalogue has no event for a lapsed return
}


def return_events(before: ReturnStatus | None, after: ReturnStatus) -> list[EventType]:
    """A return's events for a projection write: `before` None when the return was
    never projected (its first write says it was requested, whatever came next)."""
    if before == after:
        return []
    events = [EventType.RETURN_REQUESTED] if before is None else []
    event = _RETURN_EVENTS[after]
    if event is not None and event not in events:
        events.append(event)
    return events


@dataclass(frozen=True, kw_only=True)
class TransferState:
    """What a transfer's events follow: its status and how many receipts it has."""

    status: TransferStatus
    receipts: int = 0


def transfer_events(before: TransferState | None, after: TransferState) -> list[EventType]:
    """A transfer's events for a projection write (`before` None: never projected):
    `shipped` once it left, `received` for each new receipt (a partial receipt and
    the last one alike), then `completed` or `canceled` once it ends so."""
    was = before or TransferState(status=TransferStatus.REQUESTED)
    events: list[EventType] = []
    if after.status.shipped and not was.status.shipped:
        events.append(EventType.TRANSFER_SHIPPED)
    events += [EventType.TRANSFER_RECEIVED] * max(after.receipts - was.receipts, 0)
    for status, event in (
        (TransferStatus.COMPLETED, EventType.TRANSFER_COMPLETED),
        (TransferStatus.CANCELED, EventType.TRANSFER_CANCELED),
    ):
        if after.status is status and was.status is not status:
            events.append(event)
    return events


def stock_crossings(before: int, after: int, *, threshold: int) -> list[EventType]:
    """The thresholds `available` crossed at one SKU in one warehouse, in the order
    they were crossed:
    * `low_stock`: it fell to or below the item's low-stock threshold from above it
      (a threshold of 0 means none: running out is `out_of_stock`);
    * `out_of_stock`: it fell to 0 from above;
    * `back_in_stock`: it rose above 0 from 0 (rising back above the threshold
      makes no event: the SKU was not out).
    A fall from above the threshold straight to 0 crosses both lines, low first."""
    events: list[EventType] = []
    if threshold > 0 and before > threshold >= after:
        events.append(EventType.INVENTORY_LOW_STOCK)
    if before > 0 >= after:
        events.append(EventType.INVENTORY_OUT_OF_STOCK)
    if before <= 0 < after:
        events.append(EventType.INVENTORY_BACK_IN_STOCK)
    return events
