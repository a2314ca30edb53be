"""StuckRunsWorkflow: the sweep (Temporal Schedule `stuck-runs`, every minute) that
raises an alert for each run whose workflow task keeps failing."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.stuck_runs import StuckRunActivities
    from contracts.sweeps import StuckRunsInput, StuckRunsResult
    from workflows import retry_policies


@workflow.defn
class StuckRunsWorkflow:
    @workflow.run
    async def run(self, data: StuckRunsInput) -> StuckRunsResult:
        result: StuckRunsResult = await workflow.execute_activity_method(
            StuckRunActivities.alert_stuck_runs,
            data,
            start_to_close_timeout=retry_policies.DATABASE_TIMEOUT,
            retry_policy=retry_policies.DATABASE,
        )
        return result
