"""What every activity shares: the actor its stock operations record in the ledger,
and how a business refusal leaves it (non-retryable, typed by the domain error)."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from domain.errors import DomainError

ACTOR = "workflow"


def actor_of(confirmed_by: str) -> str:
    """Who a step's movements name: the API key that confirmed it, or the workflow
    for steps it takes on its own (and for inputs recorded before steps carried one)."""
    return confirmed_by or ACTOR


def business(error: DomainError) -> ApplicationError:
    """A refusal Temporal must not retry; its type names the domain error (the API maps
    types to statuses: api/workflow_calls.REFUSALS)."""
    return ApplicationError(
        error.detail, *error.details, type=type(error).__name__, non_retryable=True
    )
