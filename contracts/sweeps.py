"""Inputs and results of the scheduled sweeps' activities (backorder wake-ups,
reservation expiry, lot expiry, the stack check, stuck runs)."""

from __future__ import annotations

from dataclasses import dataclass, field

# -- backorders ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class FindWakeableInput:
    limit: int = 500


@dataclass(frozen=True, kw_only=True)
class Wakeable:
    workflow_id: str
    sku: str


@dataclass(frozen=True, kw_only=True)
class FindWakeableResult:
    orders: list[Wakeable]


@dataclass(frozen=True, kw_only=True)
class WaitingOrdersInput:
    tenant_id: int
    skus: list[str]


@dataclass(frozen=True, kw_only=True)
class WaitingOrdersResult:
    workflow_ids: list[str]


# -- reservations --------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ExpireDueInput:
    batch: int = 500


@dataclass(frozen=True, kw_only=True)
class ExpireDueResult:
    expired: list[int]  # reservation ids released as expired by this run
    more: bool  # a full batch was due: run again


# -- lots ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ExpireLotsInput:
    actor: str  # who marks them: the schedule that started the sweep
    after: int = 0  # lot ids up to this one were looked at by an earlier batch
    batch: int = 500
    tenant_id: int | None = None  # only this tenant's lots (the inventory scan)


@dataclass(frozen=True, kw_only=True)
class ExpireLotsResult:
    expired: list[int] = field(default_factory=list)  # lot ids marked expired by this call
    last: int = 0  # the last lot id looked at
    more: bool = False  # a full batch was due: look after `last`


# -- stack check ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class DatabaseCheckInput:
    requested_by: str


@dataclass(frozen=True, kw_only=True)
class DatabaseCheckResult:
    server_version: str
    schema_revision: str | None


# -- stuck runs ----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class StuckRunsInput:
    limit: int = 200


@dataclass(frozen=True, kw_only=True)
class StuckRun:
    workflow_id: str
    attempt: int
    problems: list[str]


@dataclass(frozen=True, kw_only=True)
class StuckRunsResult:
    alerted: list[StuckRun] = field(default_factory=list)
