"""The overview: a tenant's figures of the day, each the size of a list the API has."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from db.overview import Overview
from domain.orders import OrderStatus
from domain.transfers import TransferStatus


class WarehouseQueuePublic(BaseModel):
    warehouse: str = Field(examples=["WH1"])
    requests: int = Field(description="fulfillment requests not yet shipped or canceled")
    oldest_created_at: datetime = Field(description="when the oldest of them was created")


class OverviewPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "since": "2026-12-02T00:00:00Z",
                    "as_of": "2026-12-02T14:05:00Z",
                    "orders_by_status": {"allocated": 4, "backordered": 1, "shipped": 12},
                    "requests_waiting": [
                        {
                            "warehouse": "WH1",
                            "requests": 3,
                            "oldest_created_at": "2026-12-02T09:12:00Z",
                        }
                    ],
                    "backordered_lines": 2,
                    "open_alerts_by_kind": {"late_po": 1, "transfer_overdue": 1},
                    "transfers_by_status": {"in_transit": 2},
                    "late_purchase_orders": 1,
                }
            ]
        }
    )

    since: datetime = Field(description="orders created at or after this time are counted")
    as_of: datetime = Field(description="when the figures were read")
    orders_by_status: dict[OrderStatus, int] = Field(
        description="orders created since `since`, by their status now (none: left out); "
        "GET /v1/orders?status=… lists them"
    )
    requests_waiting: list[WarehouseQueuePublic] = Field(
        description="per warehouse (by code) with any: fulfillment requests not yet shipped "
        "or canceled, the WMS's queue"
    )
    backordered_lines: int = Field(
        description="order lines with backordered units, whatever their order's status: "
        "the lines GET /v1/backorders lists"
    )
    open_alerts_by_kind: dict[str, int] = Field(
        description="open alerts by kind (none: left out): GET /v1/alerts?kind=…"
    )
    transfers_by_status: dict[TransferStatus, int] = Field(
        description="transfers shipped and not all received: `in_transit` and "
        "`partially_received` (none: left out)"
    )
    late_purchase_orders: int = Field(
        description="open purchase orders with a line past its expected date and units outstanding"
    )

    @classmethod
    def of(cls, figures: Overview, *, since: datetime, as_of: datetime) -> OverviewPublic:
        orders = figures.orders_by_status
        return cls(
            since=since,
            as_of=as_of,
            orders_by_status={s: orders[s.value] for s in OrderStatus if s.value in orders},
            requests_waiting=[
                WarehouseQueuePublic(
                    warehouse=w.warehouse,
                    requests=w.requests,
                    oldest_created_at=w.oldest_created_at,
                )
                for w in figures.requests_waiting
            ],
            backordered_lines=figures.backordered_lines,
            open_alerts_by_kind=figures.open_alerts_by_kind,
            transfers_by_status={
                TransferStatus(s): n for s, n in figures.transfers_by_status.items()
            },
            late_purchase_orders=figures.late_purchase_orders,
        )
