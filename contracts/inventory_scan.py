"""Inputs and results of the inventory scan (workflows/inventory_scan.py) and its
activities (activities/inventory_scan.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ScanStep(StrEnum):
    STARTING = "starting"
    EXPIRING_LOTS = "expiring_lots"  # marking lots past expiry expired
    STOCK_LEVELS = "stock_levels"
    LOT_LEVELS = "lot_levels"
    RECONCILING = "reconciling"
    DONE = "done"


@dataclass(frozen=True, kw_only=True)
class InventoryScanInput:
    tenant_id: int
    expiry_warning_days: int = 30  # for items that set none (settings)
    batch: int = 500  # stock or lot levels per activity


@dataclass(frozen=True, kw_only=True)
class InventoryScanResult:
    expired_lots: list[int] = field(default_factory=list)
    raised: int = 0
    resolved: int = 0
    drifts: int = 0  # kinds of drift the reconciliation found


@dataclass(frozen=True, kw_only=True)
class InventoryScanStatus:
    step: ScanStep
    raised: int
    resolved: int


@dataclass(frozen=True, kw_only=True)
class ScanPageInput:
    tenant_id: int
    after: tuple[int, int] = (0, 0)  # the key of the last row of the page before
    batch: int = 500
    expiry_warning_days: int = 30


@dataclass(frozen=True, kw_only=True)
class ScanPageResult:
    raised: int = 0
    resolved: int = 0
    last: tuple[int, int] = (0, 0)
    more: bool = False  # a full page: look after `last`


@dataclass(frozen=True, kw_only=True)
class ReconcileTenantInput:
    tenant_id: int


@dataclass(frozen=True, kw_only=True)
class ReconcileTenantResult:
    drifts: int = 0  # kinds of drift found
    raised: int = 0
    resolved: int = 0


# -- every tenant ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ScanAllInput:
    expiry_warning_days: int = 30
    after_tenant: int = 0  # tenants up to this id were scanned by an earlier run
    tenants_per_page: int = 50


@dataclass(frozen=True, kw_only=True)
class ScanAllResult:
    scanned: int = 0  # tenants scanned by this run
    skipped: int = 0  # tenants whose scan was still running (started by hand) or failed


@dataclass(frozen=True, kw_only=True)
class TenantPageInput:
    after: int = 0
    limit: int = 50


@dataclass(frozen=True, kw_only=True)
class TenantPageResult:
    tenant_ids: list[int] = field(default_factory=list)
