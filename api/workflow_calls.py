"""Queries and updates on a business workflow (an order, a return, a transfer), with
Temporal's answers mapped to problems: unknown → 404, a refused step → 409 that
changed nothing, no answer in time → 504, Temporal unreachable → 503."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import (
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.problems import Problem
from api.resources import Resources


async def query_workflow(
    resources: Resources, workflow_id: str, query: Any, what: str, field: str
) -> Any:
    """The live state of `what` (e.g. "order SO-1"); 404 naming `field` if unknown."""
    client = await resources.temporal.get()
    try:
        return await client.get_workflow_handle(workflow_id).query(query)
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise Problem(404, "not-found", f"{what} does not exist", field=field) from error
        raise unavailable(error) from error
    except WorkflowQueryFailedError as error:
        raise unavailable(error) from error


# A step refused by a business rule keeps its error's type; bad input is 422, an
# unknown thing 404, anything else (a step out of order, not enough stock) 409.
REFUSALS = {"InvalidInput": 422, "QuantityError": 422, "NotFound": 404}

# How long a request waits for a step; then 504 (the step may still complete).
UPDATE_DEADLINE = timedelta(seconds=30)


async def update_workflow(
    resources: Resources, workflow_id: str, update: Any, arg: Any, status_query: Any,
    what: str, field: str, key: str | None = None,
) -> Any:  # fmt: skip
    """Run a step; a refusal changed nothing. `key` (the request's Idempotency-Key)
    is the update's id: a repeat answers with the first outcome and does nothing
    again."""
    client = await resources.temporal.get()
    name = getattr(update, "__name__", str(update))
    try:
        return await client.get_workflow_handle(workflow_id).execute_update(
            update, arg, id=f"{name}/{key}" if key else None, rpc_timeout=UPDATE_DEADLINE
        )
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError):
            raise Problem(REFUSALS.get(cause.type or "", 409), "refused", cause.message) from error
        raise Problem(409, "refused", str(cause)) from error
    except WorkflowUpdateRPCTimeoutOrCancelledError as error:
        detail = f"{what} did not answer in time; read it to see the outcome"
        raise Problem(504, "timeout", detail) from error
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:  # unknown (404) or ended (409)
            view = await query_workflow(resources, workflow_id, status_query, what, field)
            raise Problem(409, "refused", f"{what} is {view.status}") from error
        raise unavailable(error) from error


def unavailable(error: Exception) -> Problem:
    return Problem(503, "temporal-unavailable", f"the workflow service could not answer: {error}")
