"""Named retry policies and timeouts; every activity call uses one of these."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

# Database work: transient failures (connection lost, serialization) retry with
# backoff; business errors are raised non-retryable and stop at once.
DATABASE = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
)
DATABASE_TIMEOUT = timedelta(seconds=30)

# A health probe should answer now or report failure.
PROBE = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(milliseconds=200))
PROBE_TIMEOUT = timedelta(seconds=10)

# A sweep over many rows: long overall, but it must show progress.
SWEEP_TIMEOUT = timedelta(minutes=5)
SWEEP_HEARTBEAT = timedelta(seconds=30)

# Order steps: database work with the DATABASE policy; business refusals are
# non-retryable ApplicationErrors raised by the activities.
ORDER_STEP_TIMEOUT = timedelta(seconds=60)
# The order's projection (a few rows, one transaction), written by local activities.
PROJECTION_TIMEOUT = timedelta(seconds=10)
# A local activity still failing after this retries on server timers (a database
# outage then does not keep the workflow task open and growing the history).
LOCAL_RETRY_THRESHOLD = timedelta(seconds=5)

# Transfer steps: the same, for the transfer workflow.
TRANSFER_STEP_TIMEOUT = timedelta(seconds=60)

# A webhook delivery call: rounds of HTTP attempts (each bounded by the webhook
# timeout) within a budget, then the records. Its retries are for the database only:
# a receiver's failure is recorded and retried on the workflow's durable timers.
DELIVERY_TIMEOUT = timedelta(minutes=2)
# It heartbeats every 2 s: a call on a worker that died is retried after this.
DELIVERY_HEARTBEAT_TIMEOUT = timedelta(seconds=10)
