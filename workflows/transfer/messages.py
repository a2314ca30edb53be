"""What goes in and out of the transfer workflow: its input, its updates, and the
view its `status` query returns. One input, one result each (fields can be added)."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.transfers import TransferStatus

DEFAULT_ALERT_AFTER = 3 * 24 * 3600  # seconds in transit before an alert


def transfer_workflow_id(tenant_id: int, transfer_number: str) -> str:
    return f"transfer:{tenant_id}:{transfer_number}"


@dataclass(frozen=True)
class TransferLineInput:
    sku: str
    quantity: int  # base units
    lot: str | None = None  # None: the item's strategy chooses lots when it ships


@dataclass(frozen=True)
class TransferInput:
    tenant_id: int
    transfer_number: str
    from_warehouse: str
    to_warehouse: str
    lines: list[TransferLineInput]
    alert_after_seconds: int = DEFAULT_ALERT_AFTER
    request_hash: str = ""


# -- updates -------------------------------------------------------------------------


@dataclass(frozen=True)
class ShipTransferInput:
    carrier: str
    tracking_number: str | None = None


@dataclass(frozen=True)
class ReceiveLineInput:
    sku: str
    received: int  # base units; 0 with a reason writes the whole outstanding off
    lot: str | None = None
    reason: str | None = None  # closes the sku and lot: the rest is a discrepancy
    serials: list[str] = field(default_factory=list)  # serial-tracked items: which arrived


@dataclass(frozen=True)
class ReceiveTransferInput:
    location: str
    lines: list[ReceiveLineInput]


@dataclass(frozen=True)
class CancelTransferInput:
    reason: str | None = None


# -- the view ------------------------------------------------------------------------


@dataclass
class TransferLineView:
    sku: str
    lot: str | None
    quantity: int  # requested
    reserved: int = 0  # held at the source until it ships


@dataclass
class InFlightView:
    sku: str
    lot: str | None
    shipped: int
    received: int = 0
    written_off: int = 0
    outstanding: int = 0


@dataclass
class ReceiptView:
    location: str
    received_at: str
    lines: list[ReceiveLineInput]


@dataclass
class TransferView:
    tenant_id: int
    transfer_number: str
    workflow_id: str
    from_warehouse: str
    to_warehouse: str
    status: TransferStatus
    lines: list[TransferLineView]
    stock: list[InFlightView] = field(default_factory=list)  # what shipped, per sku and lot
    receipts: list[ReceiptView] = field(default_factory=list)
    carrier: str | None = None
    tracking_number: str | None = None
    shipped_at: str | None = None
    alert_at: str | None = None  # when an in-transit alert is (or was) due
    alerted: bool = False
    reason: str | None = None  # why it was rejected or canceled
    version: int = 0
