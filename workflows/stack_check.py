"""StackCheckWorkflow: proves that Temporal, a worker and Postgres work together.

`oms check` and the dev stack start it after boot; operators can start it from the
Temporal UI too. It runs one activity that reads the database version and schema."""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.stack_check import StackCheckActivities
    from contracts.sweeps import DatabaseCheckInput, DatabaseCheckResult
    from workflows import retry_policies


@dataclass(frozen=True)
class StackCheckInput:
    requested_by: str


@dataclass(frozen=True)
class StackCheckResult:
    worker_reached_database: bool
    database: DatabaseCheckResult


@workflow.defn
class StackCheckWorkflow:
    @workflow.run
    async def run(self, data: StackCheckInput) -> StackCheckResult:
        database = await workflow.execute_activity_method(
            StackCheckActivities.check_database,
            DatabaseCheckInput(requested_by=data.requested_by),
            start_to_close_timeout=retry_policies.PROBE_TIMEOUT,
            retry_policy=retry_policies.PROBE,
        )
        return StackCheckResult(worker_reached_database=True, database=database)
