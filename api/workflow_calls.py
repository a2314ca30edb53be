"""Queries and updates on a business workflow (an order, a return, a transfer), with
Temporal's answers mapped to problems: unknown → 404, a refused step → 409 that
changed nothing, no answer in time → 504, Temporal unreachable → 503."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import UpdateWorkflowExecutionLifecycleStage
from temporalio.api.update.v1 import UpdateRef, WaitPolicy
from temporalio.api.workflowservice.v1 import PollWorkflowExecutionUpdateRequest
from temporalio.client import (
    Client,
    WorkflowHandle,
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

from api.problems import Problem, timeout
from api.problems import unavailable as unavailable_problem
from api.resources import Resources
from domain.errors import Wording
from workflows import search_attributes
from workflows.refusals import NOT_YET


def request_hash(body: BaseModel) -> str:
    """What a repeated create must match to be the same request."""
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


async def start_once(
    resources: Resources,
    run: Any,
    arg: Any,
    workflow_id: str,
    digest: str,
    attributes: list[SearchAttributeUpdate[Any]],
    noun: str,
    number: str,
) -> bool:
    """Start a business workflow whose id is its number: True if started now, False if
    it exists from the same request (`digest`); another request is a 409. A number is
    used once, even after its workflow closed (never a second run)."""
    client = await resources.temporal.get()
    try:
        await client.start_workflow(
            run,
            arg,
            id=workflow_id,
            task_queue=resources.settings.temporal_task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            memo={"request_hash": digest},
            # visible in the UI from the first moment, before a worker runs it
            search_attributes=TypedSearchAttributes(search_attributes.pairs(attributes)),
            rpc_timeout=resources.temporal.rpc_timeout,
        )
        return True
    except WorkflowAlreadyStartedError:
        handle = client.get_workflow_handle(workflow_id)
        described = await handle.describe(rpc_timeout=resources.temporal.rpc_timeout)
        if await described.memo_value("request_hash", default=None) != digest:
            raise Problem(
                409,
                f"{noun}-exists",
                f"{noun} {number} exists with other content",
                field=f"{noun}_number",
            ) from None
        return False


async def query_workflow(
    resources: Resources, workflow_id: str, query: Any, what: str, field: str
) -> Any:
    """The live state of `what` (e.g. "order SO-1"); 404 naming `field` if unknown."""
    client = await resources.temporal.get()
    try:
        return await client.get_workflow_handle(workflow_id).query(
            query, rpc_timeout=resources.temporal.rpc_timeout
        )
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise Problem(404, "not-found", f"{what} does not exist", field=field) from error
        raise unavailable(error) from error
    except WorkflowQueryFailedError as error:
        raise unavailable(error) from error


async def read_state(
    resources: Resources, workflow_id: str, query: Any, what: str, field: str, projected: Any
) -> Any:
    """The state of `what` (its view; `projected` is the view its workflow last wrote to
    Postgres, or None). A final state is read from the projection: the run projected
    it before it closed and changes nothing after, and a closed run may be gone
    (Temporal's retention) or cost a worker a replay of its whole history to query.
    Anything else is asked of the live run (the projection may lag a step behind);
    if the run is gone all the same (deleted, or ended without a final status), the
    projection answers. 404 only when neither knows it."""
    if projected is not None and projected.status.is_final:
        return projected
    try:
        return await query_workflow(resources, workflow_id, query, what, field)
    except Problem as problem:
        if problem.status != 404 or projected is None:
            raise
        return projected


# A step refused by a business rule keeps its error's type; bad input is 422, an
# unknown thing 404, anything else (a step out of order, not enough stock) 409.
REFUSALS = {"InvalidInput": 422, "QuantityError": 422, "NotFound": 404}


async def update_workflow(
    resources: Resources,
    workflow_id: str,
    update: Any,
    arg: Any,
    status_query: Any,
    what: str,
    field: str,
    key: str | None = None,
) -> Any:
    """Run a step; a refusal changed nothing. `key` (the request's Idempotency-Key)
    is the update's id: a repeat answers with the first outcome and does nothing
    again. A step that comes early (what enables it is still under way) is asked
    again for up to OMS_EARLY_STEP_WAIT_SECONDS, then refused (409, saying it
    waited); any other refusal answers at once. No answer within
    OMS_UPDATE_TIMEOUT_SECONDS → 504 saying how far it got."""
    client = await resources.temporal.get()
    handle = client.get_workflow_handle(workflow_id)
    name = getattr(update, "__name__", str(update))
    settings = resources.settings
    bound = settings.update_timeout_seconds
    step = _Step(
        client=client,
        handle=handle,
        update=update,
        arg=arg,
        # An id of our own even without a key: a step that times out is looked up by it.
        update_id=f"{name}/{key}" if key else f"{name}/{uuid.uuid4()}",
        rpc_timeout=timedelta(seconds=bound),
        # Half the bound at most: the step has the other half once taken up.
        patience=min(settings.early_step_wait_seconds, bound / 2),
    )
    try:
        # `rpc_timeout` alone does not bound this: it is per call, and the SDK
        # sends the update again while the workflow has not accepted it, then polls
        # an accepted one's outcome with no deadline at all (an update whose handler
        # waits on a stuck step polled for 11 minutes). One bound over both stages.
        async with asyncio.timeout(bound):
            return await step.outcome()
    except WorkflowUpdateFailedError as error:
        raise _refused(error) from error
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as error:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise asyncio.CancelledError from error  # the request itself was canceled
        raise await _no_answer(handle, what, bound, step) from error
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:  # unknown (404) or ended (409)
            view = await query_workflow(resources, workflow_id, status_query, what, field)
            raise Problem(409, "refused", f"{what} is {view.status}") from error
        raise unavailable(error) from error


# A step that comes early is asked again after these pauses (seconds): short at
# first, as what enables it (a reservation) usually takes a fraction of a second.
# A refused update leaves nothing in the workflow's history: asking again is cheap.
FIRST_PAUSE = 0.1
LONGEST_PAUSE = 1.0


@dataclass(kw_only=True)
class _Step:
    """One step sent to a workflow, asked again while it comes early."""

    client: Client
    handle: WorkflowHandle[Any, Any]
    update: Any
    arg: Any
    update_id: str
    rpc_timeout: timedelta
    patience: float  # seconds an early step is asked again

    async def outcome(self) -> Any:
        """The step's result, in one call that waits for it (the server holds the
        call until the workflow has answered). While the workflow's validator says
        it comes early (StepNotYetPossible), ask again with a doubling pause for at
        most `patience` seconds. The same update id each time: the server does not
        remember a refused update, so the id stays free for the one taken up.
        (The server answers a refusal as a completed update that failed.)"""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.patience
        pause = FIRST_PAUSE
        while True:
            try:
                return await self.handle.execute_update(
                    self.update, self.arg, id=self.update_id, rpc_timeout=self.rpc_timeout
                )
            except WorkflowUpdateFailedError as error:
                left = give_up - loop.time()
                if not _comes_early(error):
                    raise
                if left <= 0:
                    raise Problem(
                        409,
                        "refused",
                        f"{_message(error)} (waited {self.patience:g}s for it to become possible)",
                        extensions={"waited_seconds": self.patience},
                    ) from error
                await asyncio.sleep(min(pause, left))
                pause = min(pause * 2, LONGEST_PAUSE)

    async def stage(self) -> str:
        """How far the step got, asked of the server by its update id without
        sending it again (the server answers at once with the stage it has reached):
        `accepted` (the workflow took it up; it may have finished since), `not
        accepted` (admitted, waiting for a worker; or unknown to the server: never
        admitted, or refused), `unknown` (the server did not answer)."""
        stages = UpdateWorkflowExecutionLifecycleStage
        request = PollWorkflowExecutionUpdateRequest(
            namespace=self.client.namespace,
            update_ref=UpdateRef(
                workflow_execution=WorkflowExecution(workflow_id=self.handle.id),
                update_id=self.update_id,
            ),
            identity=self.client.identity,
            wait_policy=WaitPolicy(
                lifecycle_stage=stages.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED
            ),
        )
        try:
            async with asyncio.timeout(_DESCRIBE_BOUND):
                answer = await self.client.workflow_service.poll_workflow_execution_update(
                    request, timeout=timedelta(seconds=_DESCRIBE_BOUND)
                )
        except RPCError as error:
            return "not accepted" if error.status is RPCStatusCode.NOT_FOUND else "unknown"
        except TimeoutError:
            return "unknown"
        taken = answer.stage >= stages.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED
        return "accepted" if taken else "not accepted"


def _comes_early(error: WorkflowUpdateFailedError) -> bool:
    cause = error.cause
    return isinstance(cause, ApplicationError) and cause.type == NOT_YET


def _message(error: WorkflowUpdateFailedError) -> str:
    cause = error.cause
    return cause.message if isinstance(cause, ApplicationError) else str(cause)


def _refused(error: WorkflowUpdateFailedError) -> Problem:
    """A step the workflow refused (before or after taking it up) as a problem."""
    cause = error.cause
    if not isinstance(cause, ApplicationError):
        return Problem(409, "refused", str(cause))
    # The quantities it names, said by the problem handler in the item's unit.
    wording = Wording.from_details(cause.details[0]) if cause.details else None
    return Problem(REFUSALS.get(cause.type or "", 409), "refused", cause.message, wording=wording)


# The status attributes a business workflow keeps up to date (set at start).
_STATUS_ATTRIBUTES = (
    search_attributes.ORDER_STATUS,
    search_attributes.RETURN_STATUS,
    search_attributes.TRANSFER_STATUS,
    search_attributes.PURCHASE_ORDER_STATUS,
)
_DESCRIBE_BOUND = 1.0  # seconds, after the update's bound


async def _last_status(handle: WorkflowHandle[Any, Any]) -> str | None:
    """The workflow's status as last recorded (from its search attributes: needs no
    worker); None when the server does not say in time."""
    try:
        async with asyncio.timeout(_DESCRIBE_BOUND):
            described = await handle.describe(rpc_timeout=timedelta(seconds=_DESCRIBE_BOUND))
    except (TimeoutError, RPCError):
        return None
    found = (described.typed_search_attributes.get(k) for k in _STATUS_ATTRIBUTES)
    return next((value for value in found if value is not None), None)


async def _no_answer(
    handle: WorkflowHandle[Any, Any], what: str, bound: float, step: _Step
) -> Problem:
    """504 with what is known: whether the workflow took the step up, and its
    status as last recorded."""
    stage, status = await asyncio.gather(step.stage(), _last_status(handle))
    known = f"; last known status: {status}" if status else ""
    return timeout(
        f"{what} did not answer within {bound:g}s: {_STAGES[stage]}{known}; "
        "read it to see the outcome",
        {"update": stage, "last_known_status": status},
    )


_STAGES = {
    "accepted": "it took the step up and had not finished it in time",
    "not accepted": (
        "the request was sent but it has not taken it up (it may be stuck, or no "
        "worker runs); it may still take effect"
    ),
    "unknown": "whether it took the step up is not known (Temporal did not say); it may "
    "still take effect",
}


def unavailable(error: Exception) -> Problem:
    return unavailable_problem(f"the workflow service could not answer: {error}")
