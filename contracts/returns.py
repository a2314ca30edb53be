"""What goes in and out of the return workflow: dataclasses (pydantic converter),
quantities in base units."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.returns import Disposition, ReturnStatus

DEFAULT_WINDOW_SECONDS = 30 * 24 * 3600


def return_workflow_id(tenant_id: int, rma_number: str) -> str:
    return f"return:{tenant_id}:{rma_number}"


@dataclass(frozen=True, kw_only=True)
class ReturnLineInput:
    line_id: str
    sku: str
    requested: int
    unit_price: str  # per display unit
    unit_size: int  # base units per display unit (for the refund)


@dataclass(frozen=True, kw_only=True)
class ReturnInput:
    tenant_id: int
    return_id: int  # the claim row (db returns.id)
    rma_number: str
    order_number: str
    currency: str
    reason: str
    lines: list[ReturnLineInput]
    window_seconds: int = DEFAULT_WINDOW_SECONDS  # nothing received by then: expired
    expires_at: str | None = None  # the deadline itself (ISO 8601), when the API set it
    request_hash: str = ""
    # A run continued as new carries the state of the run before it (None: a new
    # return); it continues once its history reaches `history_limit` events (None:
    # the workflow's own bound) or Temporal suggests it.
    carried: ReturnCarried | None = None
    history_limit: int | None = None


@dataclass(frozen=True, kw_only=True)
class DecisionInput:
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class ReceivedLineInput:
    line_id: str
    received: int
    accepted: int
    disposition: Disposition
    lot: str | None = None
    serials: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class ReceiveInput:
    warehouse: str
    location: str
    lines: list[ReceivedLineInput]
    actor: str = ""  # the confirming API key (Principal.actor); "" in older histories


@dataclass(frozen=True, kw_only=True)
class CloseInput:
    pass


@dataclass(kw_only=True)
class ReturnLineView:
    line_id: str
    sku: str
    requested: int
    unit_price: str
    received: int = 0
    accepted: int = 0
    disposition: Disposition | None = None
    lot: str | None = None  # the lot the units came from
    stock_lot: str | None = None  # the lot they went into (a held RMA lot, or `lot`)


@dataclass(kw_only=True)
class ReturnView:
    tenant_id: int
    rma_number: str
    order_number: str
    workflow_id: str
    currency: str
    reason: str
    status: ReturnStatus
    lines: list[ReturnLineView]
    expires_at: str | None = None
    decision_reason: str | None = None
    warehouse: str | None = None
    location: str | None = None
    refund_amount: str | None = None
    refund_reason: str | None = None
    version: int = 0


# -- activity inputs and results ----------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ReceiveReturnInput:
    key: str
    order: ReturnInput
    receipt: ReceiveInput


@dataclass(frozen=True, kw_only=True)
class ReceiveReturnResult:
    movements: int
    sellable_skus: list[str]  # restocked straight into available stock
    lots: dict[str, str | None] = field(default_factory=dict)  # line id: lot the units went into


@dataclass(frozen=True, kw_only=True)
class ProjectReturnInput:
    view: ReturnView


@dataclass(frozen=True, kw_only=True)
class ReturnCarried:
    """What a return's run hands to the run that continues it: its whole state."""

    view: ReturnView
