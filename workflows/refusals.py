"""How a workflow step says no: a non-retryable ApplicationError whose type the API
maps to a status (api/workflow_calls.py)."""

from __future__ import annotations

from temporalio.exceptions import ActivityError, ApplicationError


def refuse(message: str, type: str = "InvalidTransition") -> ApplicationError:
    """A step out of order or against the workflow's state (409)."""
    return ApplicationError(message, type=type, non_retryable=True)


def refusal(error: ActivityError) -> ApplicationError:
    """A stock step refused: the step fails with the refusal's own type (bad input,
    an unknown place, not enough stock), which the API maps to its status."""
    cause = error.cause
    if isinstance(cause, ApplicationError):
        return ApplicationError(cause.message, type=cause.type, non_retryable=True)
    return refuse(str(error))


def step_failed(error: ActivityError | ApplicationError, step: str = "a step") -> str:
    """Why a step failed for good, as a rejection's reason: the step and its message.
    (A local activity fails with its ApplicationError itself, not an ActivityError.)"""
    cause: BaseException | None = error
    if isinstance(error, ActivityError):
        step, cause = error.activity_type or step, error.cause
    detail = cause.message if isinstance(cause, ApplicationError) else str(cause or error)
    return f"step {step} failed: {detail}"


NOT_YET = "StepNotYetPossible"


def not_yet(message: str) -> ApplicationError:
    """A step that comes early: what enables it is still under way (a transfer still
    reserving, an order still allocating). The API asks again for a bounded time
    before it answers 409 with this message."""
    return refuse(message, NOT_YET)
