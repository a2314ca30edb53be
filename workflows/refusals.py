"""How a workflow step says no: a non-retryable ApplicationError whose type the API
maps to a status (api/workflow_calls.py)."""

from __future__ import annotations

from temporalio.exceptions import ActivityError, ApplicationError

from domain.errors import DomainError


def refuse(message: str, type: str = "InvalidTransition") -> ApplicationError:
    """A step out of order or against the workflow's state (409)."""
    return ApplicationError(message, type=type, non_retryable=True)


def refused(error: BaseException, type: str = "InvalidTransition") -> ApplicationError:
    """A rule refused the step: `refuse` with its message, and the quantities it names
    as details (the API says them in the item's display unit)."""
    if not isinstance(error, DomainError):
        return refuse(str(error), type)
    return ApplicationError(error.detail, *error.details, type=type, non_retryable=True)


def refusal(error: ActivityError) -> ApplicationError:
    """A stock step refused: the step fails with the refusal's own type (bad input,
    an unknown place, not enough stock) and details, which the API maps to its
    status and message."""
    cause = error.cause
    if isinstance(cause, ApplicationError):
        return ApplicationError(cause.message, *cause.details, type=cause.type, non_retryable=True)
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
