"""When a long-lived run (a transfer in transit for weeks, a return waiting for its
goods) hands over to a fresh run of itself (continue-as-new), so its history never
grows near Temporal's limits. Workflow code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow

# Events in one run before it continues as new (Temporal may suggest it earlier).
HISTORY_LIMIT = 2_000

# Runs started before continuing existed never continue (their commands stay).
PATCH = "continue-as-new"


def history_is_long(limit: int | None) -> bool:
    """True once this run's history reached `limit` events (None: HISTORY_LIMIT) or
    Temporal suggests continuing as new."""
    info = workflow.info()
    if info.is_continue_as_new_suggested():
        return True
    return info.get_current_history_length() >= (limit or HISTORY_LIMIT)


async def wait_or_continue(
    done: Callable[[], bool],
    within: timedelta | None,
    *,
    enabled: bool,
    limit: int | None,
    carried: Callable[[], Any],
) -> None:
    """Wait until `done` (TimeoutError after `within`, as workflow.wait_condition).
    If meanwhile the history grew long (`enabled` runs only) and no step is under
    way, continue as new with the input `carried()` returns: the whole state."""

    def time_to_continue() -> bool:
        return enabled and workflow.all_handlers_finished() and history_is_long(limit)

    await workflow.wait_condition(lambda: done() or time_to_continue(), timeout=within)
    if not done():
        workflow.continue_as_new(carried())


class EarlierSteps:
    """The steps (update ids) a workflow completed, carried across continue-as-new.
    Temporal answers a repeated update id from the run that took it only: a repeat
    (the same Idempotency-Key) sent after the run continued is recognized here, and
    answered with the current state instead of acting again."""

    def __init__(self, done: list[str] | None = None) -> None:
        self.done = list(done or [])
        self._earlier = frozenset(self.done)

    def repeated(self) -> bool:
        """Whether the current update is a step an earlier run completed."""
        update = workflow.current_update_info()
        return update is not None and update.id in self._earlier

    def completed(self) -> None:
        """The current update's step is done (carried to the next run)."""
        update = workflow.current_update_info()
        if update is not None:
            self.done.append(update.id)
