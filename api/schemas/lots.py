"""Request and response bodies for lot holds and recalls (display quantities)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Code, Identifier, Quantity, Text


class LotHoldCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"sku": "MUG", "lot": "L-2026-03", "reason": "cracked glaze", "status": "hold"}
            ]
        },
    )

    sku: Code
    lot: Code
    reason: Text
    status: Literal["hold", "quarantine"] = "hold"


class PulledPublic(BaseModel):
    allocation_id: int
    warehouse: str
    quantity: Quantity
    order_number: str | None = Field(None, description="the order that held it, if any")


class LotHoldPublic(BaseModel):
    sku: str
    lot: str
    status: str
    previous_status: str
    held: dict[str, Quantity] = Field(description="per warehouse, now held (not available)")
    pulled: list[PulledPublic] = Field(
        description="allocations released from open fulfillment requests; their orders"
        " re-allocate from other lots or wait as backorders"
    )


class RecallCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"sku": "MUG", "lots": ["L-2026-03"], "reason": "supplier: lead in the glaze"}
            ]
        },
    )

    sku: Code
    lots: list[Code] = Field(max_length=100)
    reason: Text


class RecallShipment(BaseModel):
    order_number: str
    customer_id: str | None
    ship_to: dict[str, object] | None = Field(description="the order's ship-to address")
    lot: str
    quantity: Quantity
    shipped_at: str = Field(json_schema_extra={"format": "date-time"})
    warehouse: str


class RecallOrder(BaseModel):
    order_number: str
    pulled: Quantity = Field(description="allocated units of the recalled lots released")
    status: str | None = Field(description="the order's status now")
    lots: list[str] = Field(description="the lots its open allocations hold now")


class RecallPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "sku": "MUG",
                    "lots": ["L-2026-03"],
                    "reason": "supplier: lead in the glaze",
                    "status": "completed",
                    "workflow_id": "recall:1:7",
                    "held": {"L-2026-03": {"MAIN": "40"}},
                    "orders": [
                        {
                            "order_number": "SO-9",
                            "pulled": "2",
                            "status": "allocated",
                            "lots": ["L-2026-04"],
                        }
                    ],
                    "shipments": [
                        {
                            "order_number": "SO-1",
                            "customer_id": "C-1",
                            "ship_to": None,
                            "lot": "L-2026-03",
                            "quantity": "1",
                            "shipped_at": "2026-03-02T10:00:00+00:00",
                            "warehouse": "MAIN",
                        }
                    ],
                    "created_at": "2026-03-04T09:00:00+00:00",
                    "completed_at": "2026-03-04T09:00:02+00:00",
                }
            ]
        }
    )

    id: int
    sku: str
    lots: list[str]
    reason: str
    status: str = Field(description="running | completed")
    workflow_id: str
    actor: Identifier | None = None
    held: dict[str, dict[str, Quantity]] = Field(
        default_factory=dict, description="lot: warehouse: units held"
    )
    orders: list[RecallOrder] = Field(
        default_factory=list, description="open orders the recalled lots were pulled from"
    )
    not_held: dict[str, str] = Field(
        default_factory=dict, description="lot: why it could not be held (already held...)"
    )
    shipments: list[RecallShipment] = Field(
        default_factory=list, description="every shipment that carried the lots"
    )
    created_at: str
    completed_at: str | None = None
