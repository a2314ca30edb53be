"""A workflow whose activity fails once then succeeds, or refuses for a business
reason: what the worker's metrics count (tests/e2e/test_observability.py)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError


@activity.defn
async def flaky(refuse: bool) -> str:
    if refuse:
        raise ApplicationError("not enough", type="InsufficientStock", non_retryable=True)
    if activity.info().attempt == 1:
        raise RuntimeError("the first attempt fails")
    return "done"


@workflow.defn
class FlakyWorkflow:
    @workflow.run
    async def run(self, refuse: bool) -> str:
        return await workflow.execute_activity(
            flaky,
            refuse,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=50)),
        )
