"""What goes in and out of the purchase order workflow: its input, its updates, the
view its `status` query returns (also what GET shows once it ended, read from the
tables), and its activities' inputs. One input, one result each."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import TypeAdapter

from domain.purchasing import PoLine, PurchaseOrderStatus


def purchase_order_workflow_id(tenant_id: int, po_number: str) -> str:
    return f"po-{tenant_id}-{po_number}"


def late_alert_key(po_number: str) -> str:
    return f"late_po:{po_number}"


@dataclass(frozen=True, kw_only=True)
class PoLineInput:
    line_no: int
    sku: str
    quantity: int  # base units
    expected_at: datetime


@dataclass(frozen=True, kw_only=True)
class PurchaseOrderInput:
    tenant_id: int
    po_number: str
    supplier: str
    warehouse: str
    lines: list[PoLineInput]
    over_receipt_tolerance: str = "0"  # a fraction (Decimal as text), fixed at creation
    request_hash: str = ""
    actor: str = ""


# -- updates -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PoReceiveLineInput:
    line_no: int
    sku: str
    quantity: int  # base units
    lot: str | None = None
    expires_on: str | None = None  # ISO date
    serials: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ReceivePurchaseOrderInput:
    location: str
    lines: list[PoReceiveLineInput]
    actor: str = ""


@dataclass(frozen=True, kw_only=True)
class ClosePurchaseOrderInput:
    status: PurchaseOrderStatus  # CLOSED (short) or CANCELED
    reason: str
    actor: str = ""


@dataclass(frozen=True, kw_only=True)
class RescheduleLineInput:
    line_no: int
    expected_at: datetime


@dataclass(frozen=True, kw_only=True)
class ReschedulePurchaseOrderInput:
    lines: list[RescheduleLineInput]
    actor: str = ""


# -- the view ------------------------------------------------------------------------


@dataclass(kw_only=True)
class PoLineView:
    line_no: int
    sku: str
    ordered: int
    received: int
    expected_at: datetime

    def book(self) -> PoLine:
        return PoLine(
            line_no=self.line_no,
            sku=self.sku,
            ordered=self.ordered,
            received=self.received,
            expected_at=self.expected_at,
        )


@dataclass(kw_only=True)
class PurchaseOrderView:
    tenant_id: int
    po_number: str
    workflow_id: str
    supplier: str
    warehouse: str
    status: PurchaseOrderStatus
    lines: list[PoLineView]
    created_at: datetime | None = None
    closed_at: datetime | None = None
    reason: str | None = None  # why closed short, canceled or rejected
    alerted: bool = False  # a late_po alert is open (workflow state)

    def books(self) -> list[PoLine]:
        return [line.book() for line in self.lines]


PURCHASE_ORDER_VIEW: TypeAdapter[PurchaseOrderView] = TypeAdapter(PurchaseOrderView)  # events' data


# -- activity inputs -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PoStepInput:
    """A stock step of one PO (key: the workflow id and the step)."""

    tenant_id: int
    key: str
    po_number: str
    actor: str = ""
    receive: ReceivePurchaseOrderInput | None = None
    tolerance: str = "0"
    close: ClosePurchaseOrderInput | None = None
    reschedule: ReschedulePurchaseOrderInput | None = None


@dataclass(frozen=True, kw_only=True)
class RecordPurchaseOrderInput:
    order: PurchaseOrderInput
    workflow_id: str


@dataclass(frozen=True, kw_only=True)
class LateAlertInput:
    tenant_id: int
    po_number: str
    message: str = ""  # "" resolves the alert instead
    resolution: str = ""
