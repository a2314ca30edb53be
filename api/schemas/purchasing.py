"""Purchase order bodies and answers (display quantities)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from api.schemas.common import (
    Code,
    Identifier,
    PositiveQuantity,
    Quantity,
    Serial,
    Text,
    WarehouseCode,
)
from domain.purchasing import PurchaseOrderStatus

LineNo = Field(None, ge=1, le=10_000, description="the PO line (default: its position, from 1)")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PoLineCreate(_Body):
    line_no: int | None = LineNo
    sku: Code
    quantity: PositiveQuantity = Field(description="ordered, in the item's unit")
    expected_at: AwareDatetime = Field(description="when the supplier delivers (with time zone)")


class PurchaseOrderCreate(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "po_number": "PO-1001",
                    "supplier": "ACME",
                    "warehouse": "BER",
                    "lines": [
                        {
                            "sku": "TSHIRT-M",
                            "quantity": 100,
                            "expected_at": "2026-12-24T09:00:00Z",
                        }
                    ],
                }
            ]
        },
    )

    po_number: Code
    supplier: Identifier
    warehouse: WarehouseCode
    lines: list[PoLineCreate] = Field(min_length=1, max_length=500)


class PurchaseOrderFromSuggestions(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"po_number": "PO-1002", "supplier": "ACME", "warehouse": "BER"},
                {"po_number": "PO-1003", "supplier": "ACME", "warehouse": "BER", "skus": ["MUG"]},
            ]
        },
    )

    po_number: Code
    supplier: Identifier
    warehouse: WarehouseCode
    skus: list[Code] | None = Field(
        None,
        min_length=1,
        max_length=500,
        description="the items to order (default: every item whose default supplier is "
        "`supplier` with a suggestion above zero at the warehouse)",
    )


class PurchaseOrderCreated(BaseModel):
    po_number: str
    status: PurchaseOrderStatus
    workflow_id: str


class PoReceiveLine(_Body):
    line_no: int | None = Field(None, ge=1, description="the PO line (or give its sku)")
    sku: Code | None = Field(None, description="the PO line's sku (when one line has it)")
    quantity: PositiveQuantity
    lot: Code | None = None
    expires_at: date | None = Field(None, description="lot expiry (track_expiry items)")
    serials: list[Serial] = Field(default_factory=list, max_length=10_000)

    @model_validator(mode="after")
    def _names_a_line(self) -> PoReceiveLine:
        if self.line_no is None and self.sku is None:
            raise ValueError("give line_no or sku")
        return self


class PurchaseOrderReceiveBody(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"location": "DOCK", "lines": [{"sku": "TSHIRT-M", "quantity": 40}]}]
        },
    )

    location: Code
    lines: list[PoReceiveLine] = Field(min_length=1, max_length=500)


class PurchaseOrderCloseBody(_Body):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "supplier cannot deliver"}]}
    )

    reason: Text


class PoRescheduleLine(_Body):
    line_no: int | None = Field(None, ge=1)
    sku: Code | None = None
    expected_at: AwareDatetime

    @model_validator(mode="after")
    def _names_a_line(self) -> PoRescheduleLine:
        if self.line_no is None and self.sku is None:
            raise ValueError("give line_no or sku")
        return self


class PurchaseOrderPatch(_Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"lines": [{"line_no": 1, "expected_at": "2027-01-08T09:00:00Z"}]}]
        },
    )

    lines: list[PoRescheduleLine] = Field(
        min_length=1, max_length=500, description="lines moved to the supplier's new date"
    )


class PoLinePublic(BaseModel):
    line_no: int
    sku: str
    ordered: Quantity
    received: Quantity
    outstanding: Quantity = Field(description="still to come: counted in `incoming`")
    expected_at: datetime
    late: bool = Field(description="past its expected date with something outstanding")


class PurchaseOrderPublic(BaseModel):
    po_number: str
    workflow_id: str
    supplier: str
    warehouse: str
    status: PurchaseOrderStatus
    late: bool
    lines: list[PoLinePublic]
    created_at: datetime | None = None
    closed_at: datetime | None = None
    reason: str | None = None
