"""Queries and updates on a business workflow (an order, a return, a transfer), with
Temporal's answers mapped to problems: unknown → 404, a refused step → 409 that
changed nothing, no answer in time → 504, Temporal unreachable → 503."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio.client import (
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributeUpdate,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.problems import Problem
from api.resources import Resources
from workflows import search_attributes


def request_hash(body: BaseModel) -> str:
    """What a repeated create must match to be the same request."""
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


async def start_once(
    resources: Resources, run: Any, arg: Any, workflow_id: str, digest: str,
    attributes: list[SearchAttributeUpdate[Any]], noun: str, number: str,
) -> bool:  # fmt: skip
    """Start a business workflow whose id is its number: True if started now, False if
    it exists from the same request (`digest`); another request is a 409. A number is
    used once, even after its workflow closed (never a second run)."""
    client = await resources.temporal.get()
    try:
        await client.start_workflow(
            run, arg, id=workflow_id, task_queue=resources.settings.temporal_task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            memo={"request_hash": digest},
            # visible in the UI from the first moment, before a worker runs it
            search_attributes=TypedSearchAttributes(search_attributes.pairs(attributes)),
        )  # fmt: skip
        return True
    except WorkflowAlreadyStartedError:
        described = await client.get_workflow_handle(workflow_id).describe()
        if await described.memo_value("request_hash", default=None) != digest:
            raise Problem(409, f"{noun}-exists", f"{noun} {number} exists with other content",
                          field=f"{noun}_number") from None  # fmt: skip
        return False


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
