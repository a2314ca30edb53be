"""Transfer and alert bodies and answers (display quantities)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.schemas.common import (
    Code,
    Identifier,
    NonNegativeQuantity,
    Note,
    PositiveQuantity,
    Printable,
    Quantity,
    Serial,
    Text,
    WarehouseCode,
)
from domain.transfers import TransferStatus


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TransferLineCreate(_Body):
    sku: Code
    quantity: PositiveQuantity = Field(description="exact, in the item's display unit")
    lot: Code | None = Field(
        None, description="only this lot; without it the item's strategy chooses when it ships"
    )


class TransferCreate(_Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "transfer_number": "TR-1001",
                    "from_warehouse": "BER",
                    "to_warehouse": "HAM",
                    "lines": [
                        {"sku": "TSHIRT-M", "quantity": 10},
                        {"sku": "MILK-1L", "quantity": 6, "lot": "L-NEW"},
                    ],
                }
            ]
        }
    )

    transfer_number: Code
    from_warehouse: WarehouseCode
    to_warehouse: WarehouseCode
    lines: list[TransferLineCreate] = Field(min_length=1, max_length=500)

    @field_validator("lines")
    @classmethod
    def _distinct_lines(cls, lines: list[TransferLineCreate]) -> list[TransferLineCreate]:
        keys = [(line.sku, line.lot) for line in lines]
        if len(set(keys)) != len(keys):
            raise ValueError("each sku and lot appears once")
        return lines


class TransferCreated(BaseModel):
    transfer_number: str
    status: TransferStatus
    workflow_id: str


class TransferShipBody(_Body):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"carrier": "DHL", "tracking_number": "00340434"}]}
    )

    carrier: Identifier
    tracking_number: Identifier | None = None


class TransferReceiveLine(_Body):
    sku: Code
    lot: Code | None = None
    received: NonNegativeQuantity = Field(
        description="what arrived now (0 with a reason: none of the rest came)"
    )
    reason: Annotated[str, Printable(max_length=400, multiline=True)] | None = Field(
        None,
        description="closes this sku and lot: what is still outstanding after this receipt is "
        "written off as a discrepancy with this reason",
    )
    serials: list[Serial] = Field(
        default_factory=list,
        max_length=10_000,
        description="serial-tracked items: the serials that arrived (as many as received)",
    )


class TransferReceiveBody(_Body):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"location": "A-01", "lines": [{"sku": "TSHIRT-M", "received": 8}]},
                {
                    "location": "A-01",
                    "lines": [{"sku": "TSHIRT-M", "received": 1, "reason": "one box crushed"}],
                },
            ]
        }
    )

    location: Code
    lines: list[TransferReceiveLine] = Field(min_length=1, max_length=500)


class TransferCancelBody(_Body):
    reason: Note | None = Field(None, examples=["not needed any more"])


class TransferLinePublic(BaseModel):
    sku: str
    lot: str | None
    quantity: Quantity
    reserved: Quantity


class InFlightPublic(BaseModel):
    sku: str
    lot: str | None
    shipped: Quantity
    received: Quantity
    written_off: Quantity
    outstanding: Quantity


class ReceiptLinePublic(BaseModel):
    sku: str
    lot: str | None
    received: Quantity
    reason: str | None


class ReceiptPublic(BaseModel):
    location: str
    received_at: str
    lines: list[ReceiptLinePublic]


class TransferPublic(BaseModel):
    transfer_number: str
    workflow_id: str
    from_warehouse: str
    to_warehouse: str
    status: TransferStatus
    lines: list[TransferLinePublic]
    stock: list[InFlightPublic] = Field(description="what shipped, per sku and lot")
    receipts: list[ReceiptPublic]
    carrier: str | None
    tracking_number: str | None
    shipped_at: str | None
    alert_at: str | None = Field(description="when an in-transit alert is (or was) due")
    alerted: bool
    reason: str | None = Field(description="why it was rejected or canceled")
    requested_at: datetime | None = Field(
        None, description="when the transfer was requested (in lists; null on a single read)"
    )


class AlertPublic(BaseModel):
    id: int
    kind: str = Field(examples=["transfer_in_transit"])
    reference_type: str = Field(examples=["transfer"])
    reference_id: str = Field(examples=["TR-1001"])
    message: str
    created_at: datetime
    resolved_at: datetime | None
    resolution: str | None
    sku: str | None = Field(default=None, description="the SKU a stock-level or lot alert is about")
    warehouse: str | None = Field(
        default=None, description="the warehouse a stock, lot or setup alert is about"
    )
    lot: str | None = Field(default=None, description="the lot an expiry alert is about")
    order_number: str | None = Field(
        default=None, description="the order whose workflow a workflow alert is about"
    )


class AlertResolveBody(_Body):
    resolution: Text = Field(examples=["carrier found the pallet"])
