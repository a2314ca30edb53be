"""What the recall workflow and its activities exchange."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class RecallInput:
    tenant_id: int
    recall_id: int
    sku: str
    lots: list[str]
    reason: str
    actor: str


@dataclass(frozen=True, kw_only=True)
class HoldRecalledLotInput:
    tenant_id: int
    key: str  # the hold's idempotency key (from the workflow id and the lot)
    sku: str
    lot: str
    reason: str
    actor: str


@dataclass(frozen=True, kw_only=True)
class HoldRecalledLotResult:
    held: dict[str, int] = field(default_factory=dict)  # warehouse: units held
    pulled: dict[str, list[int]] = field(default_factory=dict)  # order: allocation ids
    pulled_units: dict[str, int] = field(default_factory=dict)  # order: units pulled
    picked_units: dict[str, int] = field(default_factory=dict)  # order: units picked
    not_held: str | None = None  # why the lot could not be held (already held...)


@dataclass(frozen=True, kw_only=True)
class CompleteRecallInput:
    tenant_id: int
    recall_id: int
    held: dict[str, dict[str, int]]
    pulled: dict[str, int]
    picked: dict[str, int]
    not_held: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class CompleteRecallResult:
    shipments: int  # how many shipments carried the lots


@dataclass(frozen=True, kw_only=True)
class RecallStatus:
    status: str  # holding | tracing | completed
    lots_held: list[str] = field(default_factory=list)
    orders_pulled: list[str] = field(default_factory=list)
