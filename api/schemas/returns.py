"""Return (RMA) bodies and answers (display quantities)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.schemas.common import (
    Code,
    NonNegativeQuantity,
    Note,
    PositiveQuantity,
    Quantity,
    Serial,
    Text,
    WarehouseCode,
)
from domain.returns import Disposition, ReturnStatus


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReturnLineCreate(_Body):
    line_id: Code
    quantity: PositiveQuantity


class ReturnCreate(_Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "rma_number": "RMA-1001",
                    "reason": "wrong size",
                    "lines": [{"line_id": "1", "quantity": 1}],
                }
            ]
        }
    )

    rma_number: Code
    reason: Text
    lines: list[ReturnLineCreate] = Field(min_length=1, max_length=500)

    @field_validator("lines")
    @classmethod
    def _distinct_lines(cls, lines: list[ReturnLineCreate]) -> list[ReturnLineCreate]:
        ids = [line.line_id for line in lines]
        if len(set(ids)) != len(ids):
            raise ValueError("line_id values must be distinct")
        return lines


class DecisionBody(_Body):
    reason: Note = Field("", description="required to reject")


class ReturnReceiptLine(_Body):
    line_id: Code
    received: NonNegativeQuantity
    accepted: NonNegativeQuantity = Field(
        description="of received, what passes; only this enters stock and is refunded"
    )
    disposition: Disposition
    lot: Code | None = Field(None, description="the lot the units came from (lot-tracked items)")
    serials: list[Serial] = Field(default_factory=list, max_length=10_000)


class ReturnReceipt(_Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "warehouse": "BER",
                    "location": "DOCK",
                    "lines": [
                        {"line_id": "1", "received": 1, "accepted": 1, "disposition": "restock"}
                    ],
                }
            ]
        }
    )

    warehouse: WarehouseCode
    location: Code
    lines: list[ReturnReceiptLine] = Field(min_length=1, max_length=500)


class ReturnLinePublic(BaseModel):
    line_id: str
    sku: str
    unit_price: Decimal
    requested: Quantity
    received: Quantity
    accepted: Quantity
    rejected: Quantity = Field(description="received but not accepted")
    disposition: Disposition | None
    lot: str | None
    stock_lot: str | None = Field(
        None, description="the lot the accepted units went into (a held RMA lot, or `lot`)"
    )


class RefundPublic(BaseModel):
    amount: Decimal
    currency: str
    reason: str | None


class ReturnPublic(BaseModel):
    rma_number: str
    order_number: str
    workflow_id: str
    status: ReturnStatus
    reason: str
    decision_reason: str | None
    expires_at: datetime | None = Field(description="nothing received by then: expired")
    warehouse: str | None
    location: str | None
    lines: list[ReturnLinePublic]
    refund: RefundPublic | None
    requested_at: datetime | None = Field(
        None, description="when the return was requested (in lists; null on a single read)"
    )
