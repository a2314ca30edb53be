"""The activity behind the stuck-runs sweep: runs whose workflow task keeps failing
(a bug in workflow code, a nondeterministic change) make no progress and raise no
error anyone sees. Temporal flags them with the `TemporalReportedProblems` search
attribute (server 1.28+, when the dynamic config value
`system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute` is set; the dev
stack sets it to 2); each flagged run raises one `workflow_task_failing` alert."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from contracts.sweeps import StuckRun, StuckRunsInput, StuckRunsResult
from db.alerts import NewAlert, raise_alert

log = logging.getLogger(__name__)

ALERT_KIND = "workflow_task_failing"
STUCK_QUERY = (
    "ExecutionStatus = 'Running' AND TemporalReportedProblems IN "
    "('category=WorkflowTaskFailed', 'category=WorkflowTaskTimedOut')"
)


class StuckRunActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], client: Client) -> None:
        self._sessions = sessions
        self._client = client

    @activity.defn
    async def alert_stuck_runs(self, data: StuckRunsInput) -> StuckRunsResult:
        """One alert per flagged run (raising it again changes nothing)."""
        alerted = []
        try:
            async for run in self._client.list_workflows(STUCK_QUERY, limit=data.limit):
                attributes = run.search_attributes
                tenant = attributes.get("TenantId") or []
                problems = [str(p) for p in attributes.get("TemporalReportedProblems", [])]
                description = await self._client.get_workflow_handle(
                    run.id, run_id=run.run_id
                ).describe()
                attempt = description.raw_description.pending_workflow_task.attempt
                stuck = StuckRun(workflow_id=run.id, attempt=attempt, problems=problems)
                if not tenant:  # a sweep of every tenant: no tenant's alert list fits
                    log.error("workflow task of %s keeps failing: %s", run.id, stuck)
                    continue
                await raise_alert(self._sessions, _alert(int(str(tenant[0])), run.run_id, stuck))
                alerted.append(stuck)
        except RPCError as error:
            if error.status is not RPCStatusCode.INVALID_ARGUMENT:
                raise
            # A server that does not know the attribute: nothing to sweep here.
            log.warning("stuck-runs sweep unavailable: %s", error.message)
        return StuckRunsResult(alerted=alerted)


def _alert(tenant_id: int, run_id: str | None, stuck: StuckRun) -> NewAlert:
    message = (
        f"workflow task of {stuck.workflow_id} has failed {stuck.attempt} times in a row "
        f"({', '.join(stuck.problems)}); the run makes no progress until the worker's "
        "code is fixed"
    )
    return NewAlert(
        tenant_id=tenant_id,
        key=f"{ALERT_KIND}:{stuck.workflow_id}:{run_id}"[:200],
        kind=ALERT_KIND,
        reference_type="workflow",
        reference_id=stuck.workflow_id[:128],
        message=message[:500],
    )
