"""The worker's observability interceptor: each activity (local ones too) runs
with its log context (workflow id, tenant, business number, activity, attempt) and
counts its refusals, failures and retries; each workflow run that ends counts its
outcome. Metrics are never counted while a workflow replays."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from typing import Any

from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError, FailureError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    ExecuteWorkflowInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from observability import context
from observability.metrics import WorkerMetrics, count_stock_operations_in

log = logging.getLogger(__name__)

_CLOSED = "__oms_workflow_closed"


class ObservabilityInterceptor(Interceptor):
    def __init__(self, metrics: WorkerMetrics, scheduled: Collection[str] = ()) -> None:
        """`scheduled`: the workflow types that Temporal Schedules start."""
        self.metrics = metrics
        self.scheduled = frozenset(scheduled)

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityObserver(next, self.metrics)

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        # Workflow code runs in a sandbox: it reaches the metrics through an extern.
        input.unsafe_extern_functions[_CLOSED] = self._workflow_closed
        return _WorkflowObserver

    def _workflow_closed(self, workflow_type: str, outcome: str) -> None:
        self.metrics.workflows_closed.labels(workflow_type, outcome).inc()
        if workflow_type in self.scheduled:
            result = "failed" if outcome == "failed" else "completed"
            self.metrics.schedule_runs.labels(workflow_type, result).inc()


class _ActivityObserver(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, metrics: WorkerMetrics) -> None:
        super().__init__(next)
        self.metrics = metrics

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        name = info.activity_type
        fields = context.workflow_fields(info.workflow_id) if info.workflow_id else {}
        with context.scope(**fields, activity=name, attempt=info.attempt):
            count_stock_operations_in(self.metrics.stock)
            if info.attempt > 1:
                self.metrics.activity_retries.labels(name).inc()
            started = time.perf_counter()
            try:
                result = await super().execute_activity(input)
            except ApplicationError as error:
                refused = error.non_retryable  # a business refusal, not retried
                counter = (
                    self.metrics.activity_refusals if refused else self.metrics.activity_failures
                )
                counter.labels(name, error.type or "ApplicationError").inc()
                raise
            except Exception as error:
                self.metrics.activity_failures.labels(name, type(error).__name__).inc()
                raise
            log.debug("%s done in %.3f s", name, time.perf_counter() - started)
            return result


def _outcome(result: Any) -> str:
    status = getattr(result, "status", None)
    return str(getattr(status, "value", status)) if status is not None else "completed"


class _WorkflowObserver(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        closed: Callable[[str, str], None] = workflow.extern_functions()[_CLOSED]
        workflow_type = workflow.info().workflow_type
        try:
            result = await super().execute_workflow(input)
        except FailureError:
            if not workflow.unsafe.is_replaying():
                closed(workflow_type, "failed")
            raise
        if not workflow.unsafe.is_replaying():
            outcome = _outcome(result)
            closed(workflow_type, outcome)
            workflow.logger.info("%s ended: %s", workflow_type, outcome)
        return result
