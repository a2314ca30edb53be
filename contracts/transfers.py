"""What goes in and out of the transfer workflow: its input, its updates, and the
view its `status` query returns. One input, one result each (fields can be added)."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.transfers import TransferStatus

DEFAULT_ALERT_AFTER = 3 * 24 * 3600  # seconds in transit before an alert


def transfer_workflow_id(tenant_id: int, transfer_number: str) -> str:
    return f"transfer:{tenant_id}:{transfer_number}"


@dataclass(frozen=True, kw_only=True)
class TransferLineInput:
    sku: str
    quantity: int  # base units
    lot: str | None = None  # None: the item's strategy chooses lots when it ships


@dataclass(frozen=True, kw_only=True)
class TransferInput:
    tenant_id: int
    transfer_number: str
    from_warehouse: str
    to_warehouse: str
    lines: list[TransferLineInput]
    alert_after_seconds: int = DEFAULT_ALERT_AFTER
    request_hash: str = ""
    # A run continued as new carries the state of the run before it (None: a new
    # transfer); it continues once its history reaches `history_limit` events
    # (None: the workflow's own bound) or Temporal suggests it.
    carried: TransferCarried | None = None
    history_limit: int | None = None


# -- updates -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ShipTransferInput:
    carrier: str
    tracking_number: str | None = None
    actor: str = ""  # the confirming API key (Principal.actor); "" in older histories


@dataclass(frozen=True, kw_only=True)
class ReceiveLineInput:
    sku: str
    received: int  # base units; 0 with a reason writes the whole outstanding off
    lot: str | None = None
    reason: str | None = None  # closes the sku and lot: the rest is a discrepancy
    serials: list[str] = field(default_factory=list)  # serial-tracked items: which arrived


@dataclass(frozen=True, kw_only=True)
class ReceiveTransferInput:
    location: str
    lines: list[ReceiveLineInput]
    actor: str = ""  # the confirming API key (Principal.actor); "" in older histories


@dataclass(frozen=True, kw_only=True)
class CancelTransferInput:
    reason: str | None = None


# -- the view ------------------------------------------------------------------------


@dataclass(kw_only=True)
class TransferLineView:
    sku: str
    lot: str | None
    quantity: int  # requested
    reserved: int = 0  # held at the source until it ships


@dataclass(kw_only=True)
class InFlightView:
    sku: str
    lot: str | None
    shipped: int
    received: int = 0
    written_off: int = 0
    outstanding: int = 0


@dataclass(kw_only=True)
class ReceiptView:
    location: str
    received_at: str
    lines: list[ReceiveLineInput]


@dataclass(kw_only=True)
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


# -- activity inputs and results ----------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RecordTransferInput:
    transfer: TransferInput
    workflow_id: str


@dataclass(frozen=True, kw_only=True)
class ReserveTransferInput:
    tenant_id: int
    key: str
    transfer_number: str
    from_warehouse: str
    lines: list[TransferLineInput]


@dataclass(frozen=True, kw_only=True)
class ReservedLine:
    reservation_id: int
    sku: str
    lot: str | None
    quantity: int


@dataclass(frozen=True, kw_only=True)
class ReserveTransferResult:
    reservations: list[ReservedLine]


@dataclass(frozen=True, kw_only=True)
class TransferReservations:
    tenant_id: int
    key: str  # each reservation adds its id
    transfer_number: str
    reservation_ids: list[int]
    actor: str = ""  # who the movements name ("": the workflow itself)


@dataclass(frozen=True, kw_only=True)
class ReceiveTransferStockInput:
    tenant_id: int
    key: str
    transfer_number: str
    location: str
    lines: list[ReceiveLineInput]
    actor: str = ""  # who the movements name ("": the workflow itself)


@dataclass(frozen=True, kw_only=True)
class TransferAlertInput:
    tenant_id: int
    transfer_number: str
    message: str


@dataclass(frozen=True, kw_only=True)
class TransferCarried:
    """What a transfer's run hands to the run that continues it: its whole state."""

    view: TransferView
    reservations: list[int] = field(default_factory=list)
    ship_attempts: int = 0
    steps_done: list[str] = field(default_factory=list)  # ids of the updates it completed
