"""The backorder list and promise dates (display quantities)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Quantity
from domain.promise_dates import SupplyKind, SupplySource

PROMISE = (
    "when the line is expected to be served: the date of the stock or supply (purchase "
    "order, transfer) that covers it after the lines served before it; a PO or transfer "
    "past its date counts from now + the late grace. Null: nothing known covers it"
)


class CoveredBy(BaseModel):
    """The stock or supply that completes a line's promise."""

    type: SupplyKind = Field(description="stock (free now), purchase_order or transfer")
    id: str | None = Field(description="the PO or transfer number; null for stock")
    warehouse: str

    @classmethod
    def of(cls, source: SupplySource) -> CoveredBy:
        return cls(type=source.kind, id=source.reference, warehouse=source.warehouse)


def covered_by(source: SupplySource | None) -> CoveredBy | None:
    return None if source is None else CoveredBy.of(source)


class BackorderPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_number": "SO-1001",
                    "line_id": "1",
                    "sku": "MUG",
                    "unit": "ea",
                    "customer_id": "C-42",
                    "priority": 5,
                    "ordered_at": "2026-03-01T09:30:00Z",
                    "backordered": 4,
                    "expected_at": "2026-03-08T00:00:00Z",
                    "covered_by": {"type": "purchase_order", "id": "PO-7", "warehouse": "WH1"},
                }
            ]
        }
    )

    order_number: str
    line_id: str
    sku: str
    unit: str
    customer_id: str
    priority: int = Field(description="the order's priority (lower is served first)")
    ordered_at: datetime
    backordered: Quantity
    expected_at: datetime | None = Field(description=PROMISE)
    covered_by: CoveredBy | None


class IncomingPublic(BaseModel):
    """Supply on its way to a warehouse."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "expected_at": "2026-03-08T00:00:00Z",
                    "quantity": 40,
                    "source": {"type": "purchase_order", "id": "PO-7", "warehouse": "WH1"},
                    "late": False,
                }
            ]
        }
    )

    expected_at: datetime = Field(
        description="the PO line's expected date; a transfer's shipped time + its "
        "in-transit alert delay"
    )
    quantity: Quantity
    source: CoveredBy
    late: bool = Field(
        description="its date has passed: promises count it from now + the late grace"
    )
