"""`oms check`: run the stack check workflow through Temporal and a worker."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import WorkflowIDReusePolicy

from settings import Settings
from workflows.client import connect, register_search_attributes
from workflows.schedules import ScanPlan, apply_schedules
from workflows.stack_check import StackCheckInput, StackCheckResult, StackCheckWorkflow

CHECK_WORKFLOW_ID = "stack-check"


async def start_checks_and_schedules(settings: Settings, requested_by: str) -> StackCheckResult:
    """What `oms dev` does once the worker runs: the search attributes a data dir of
    an older version lacks, the stack check, then the schedules."""
    client = await connect(settings)
    await register_search_attributes(client, settings.temporal_namespace)
    result = await run_stack_check(settings, requested_by)
    await apply_schedules(client, settings.temporal_task_queue, ScanPlan.of(settings))
    return result


async def run_stack_check(
    settings: Settings, requested_by: str, limit: timedelta = timedelta(seconds=30)
) -> StackCheckResult:
    client = await connect(settings)
    return await client.execute_workflow(
        StackCheckWorkflow.run,
        StackCheckInput(requested_by=requested_by),
        id=CHECK_WORKFLOW_ID,
        task_queue=settings.temporal_task_queue,
        execution_timeout=limit,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
