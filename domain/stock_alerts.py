"""The inventory scan's alerts: when each condition holds, what its message tells
the operator to do, and the note that resolves it when the condition clears.

Quantities come in base units and are said in the item's display unit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from urllib.parse import urlencode

from domain.allocation import LotStatus, lot_status_on
from domain.quantities import UnitOfMeasure


class ScanAlert(StrEnum):
    LOW_STOCK = "low_stock"
    OUT_OF_STOCK = "out_of_stock"
    BELOW_REORDER_POINT = "below_reorder_point"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    RECONCILIATION = "reconciliation"


LEVEL_ALERTS = (ScanAlert.LOW_STOCK, ScanAlert.OUT_OF_STOCK, ScanAlert.BELOW_REORDER_POINT)
LOT_ALERTS = (ScanAlert.EXPIRING, ScanAlert.EXPIRED)


@dataclass(frozen=True, kw_only=True)
class AlertPlace:
    """Where a level or lot alert of the scan is: its SKU, warehouse and lot."""

    sku: str
    warehouse: str
    lot: str | None = None


def scan_alert_place(key: str) -> AlertPlace | None:
    """The place a level or lot alert names, read from its key (`kind:sku:warehouse`,
    `kind:sku:warehouse:lot`; codes hold no ':'); None for any other alert."""
    kind, *parts = key.split(":")
    if kind in LEVEL_ALERTS and len(parts) == 2:
        return AlertPlace(sku=parts[0], warehouse=parts[1])
    if kind in LOT_ALERTS and len(parts) == 3:
        return AlertPlace(sku=parts[0], warehouse=parts[1], lot=parts[2])
    return None


def _say(uom: UnitOfMeasure, base: int) -> str:
    return f"{uom.to_display(base)} {uom.unit}"


def _suggestions(sku: str, warehouse: str) -> str:
    return "/v1/replenishment/suggestions?" + urlencode({"sku": sku, "warehouse": warehouse})


@dataclass(frozen=True, kw_only=True)
class LevelFigures:
    """An item at a warehouse as the scan sees it (base units). `watched`: the item
    and the warehouse are active (an inactive one raises nothing)."""

    sku: str
    warehouse: str
    uom: UnitOfMeasure
    available: int
    incoming: int
    low_stock_threshold: int
    reorder_point: int
    watched: bool = True

    def holds(self, kind: ScanAlert) -> bool:
        if not self.watched:
            return False
        if kind is ScanAlert.LOW_STOCK:
            return self.low_stock_threshold > 0 and 0 < self.available <= self.low_stock_threshold
        if kind is ScanAlert.OUT_OF_STOCK:
            return self.available <= 0
        if kind is ScanAlert.BELOW_REORDER_POINT:
            return self.reorder_point > 0 and self.available + self.incoming <= self.reorder_point
        raise ValueError(f"{kind} is not an alert on a stock level")

    def message(self, kind: ScanAlert) -> str:
        """What the raised alert says: the figures and what to do."""
        where = f"{self.sku} at {self.warehouse}"
        see = f"see {_suggestions(self.sku, self.warehouse)}"
        available = _say(self.uom, self.available)
        if kind is ScanAlert.LOW_STOCK:
            threshold = _say(self.uom, self.low_stock_threshold)
            return (
                f"{where} is low: {available} available, threshold {threshold}. "
                f"Receive or transfer stock; {see}"
            )
        if kind is ScanAlert.OUT_OF_STOCK:
            return (
                f"{where} is out of stock: nothing available to promise. Receive or "
                f"transfer stock (or release a held lot); orders there backorder; {see}"
            )
        position = _say(self.uom, self.available + self.incoming)
        return (
            f"{where} is at or below its reorder point: {available} available + "
            f"{_say(self.uom, self.incoming)} incoming = {position}, reorder point "
            f"{_say(self.uom, self.reorder_point)}. Place a purchase order; {see}"
        )

    def resolution(self, kind: ScanAlert) -> str:
        """Why the alert is resolved: the condition no longer holds."""
        if not self.watched:
            return "no longer watched: the item or the warehouse is inactive"
        available = _say(self.uom, self.available)
        if kind is ScanAlert.LOW_STOCK:
            if self.available <= 0:
                return "nothing available now: see the out_of_stock alert"
            if self.low_stock_threshold <= 0:
                return f"the item has no low-stock threshold now ({available} available)"
            return (
                f"available is {available} again "
                f"(threshold {_say(self.uom, self.low_stock_threshold)})"
            )
        if kind is ScanAlert.OUT_OF_STOCK:
            return f"in stock again: {available} available"
        if self.reorder_point <= 0:
            return "the item has no reorder point now"
        return (
            f"available + incoming is {_say(self.uom, self.available + self.incoming)} "
            f"again, above the reorder point {_say(self.uom, self.reorder_point)}"
        )


@dataclass(frozen=True, kw_only=True)
class LotFigures:
    """A lot's stock at one warehouse as the scan sees it (base units)."""

    sku: str
    warehouse: str
    lot: str
    uom: UnitOfMeasure
    on_hand: int
    status: LotStatus  # as stored
    expires_on: date | None
    warning_days: int  # the item's, else the settings' default
    watched: bool = True

    def status_on(self, today: date) -> LotStatus:
        return lot_status_on(self.status, self.expires_on, today)

    def holds(self, kind: ScanAlert, today: date) -> bool:
        if not self.watched or self.on_hand <= 0:
            return False
        status = self.status_on(today)
        if kind is ScanAlert.EXPIRED:
            return status is LotStatus.EXPIRED
        if kind is ScanAlert.EXPIRING:
            return (
                status is LotStatus.AVAILABLE
                and self.expires_on is not None
                and self.expires_on <= today + timedelta(days=self.warning_days)
            )
        raise ValueError(f"{kind} is not an alert on a lot")

    def message(self, kind: ScanAlert) -> str:
        where = f"lot {self.lot} of {self.sku} at {self.warehouse}"
        on_hand = _say(self.uom, self.on_hand)
        if kind is ScanAlert.EXPIRED:
            return (
                f"{where} expired on {self.expires_on}: {on_hand} on hand can no longer "
                "be sold. Dispose of it and adjust it out of stock (reason: expired)"
            )
        return (
            f"{where} expires on {self.expires_on} ({on_hand} on hand). Sell it first "
            "(FEFO), move it to where it sells, or mark it down"
        )

    def resolution(self, kind: ScanAlert, today: date) -> str:
        if not self.watched:
            return "no longer watched: the item or the warehouse is inactive"
        if self.on_hand <= 0:
            return "none of the lot is left at the warehouse"
        status = self.status_on(today)
        if kind is ScanAlert.EXPIRING and status is LotStatus.EXPIRED:
            return "the lot has expired: see the expired alert"
        if status is not LotStatus.AVAILABLE and status is not LotStatus.EXPIRED:
            return f"the lot's status is {status} now: not for sale"
        return f"the lot expires on {self.expires_on}, beyond the warning window"


@dataclass(frozen=True, kw_only=True)
class Drift:
    """A place where the books disagree (an invariant broken)."""

    what: str
    where: str
    expected: int
    actual: int


MESSAGE_LIMIT = 500  # the alerts' message column


def drift_message(what: str, drifts: list[Drift], tenant: str) -> str:
    """One alert per kind of drift, naming each place (as many as fit)."""
    head = f"the books disagree: {what} at "
    tail = (
        f". Run `oms reconcile --tenant {tenant}` for the full list, find the change "
        "that caused it and correct it; this alert resolves itself when they agree"
    )
    places: list[str] = []
    room = MESSAGE_LIMIT - len(head) - len(tail) - 20
    for drift in drifts:
        place = f"{drift.where} (expected {drift.expected}, found {drift.actual})"
        if len(place) + 2 > room:
            places.append(f"and {len(drifts) - len(places)} more")
            break
        places.append(place)
        room -= len(place) + 2
    return (head + "; ".join(places) + tail)[:MESSAGE_LIMIT]
