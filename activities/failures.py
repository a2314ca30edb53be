"""No poison runs: how every activity leaves when it fails for good or keeps failing.

One activity interceptor (the worker lists it) turns an error no retry can fix (a
value the database refuses: db/refusals.py) into a non-retryable ApplicationError
of type `DataRefused`, so the workflow rejects what it was doing instead of
retrying forever; and it raises one `activity_failing` alert per (workflow id,
activity type) when that happens, or when a retryable failure reaches its Nth
attempt. An alert that cannot be written (the database is down) is logged and
never hides the activity's own error."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from db.alerts import NewAlert, raise_alert
from db.refusals import refused_value

log = logging.getLogger(__name__)

REFUSED_TYPE = "DataRefused"
ALERT_KIND = "activity_failing"
ALERT_WRITE_TIMEOUT = 5.0  # seconds; the activity's own error must not wait longer


class FailureInterceptor(Interceptor):
    """Put it in the worker's interceptor list; independent of any other there."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, alert_after_attempts: int
    ) -> None:
        self._sessions = sessions
        self._attempts = alert_after_attempts

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Inbound(next, self._sessions, self._attempts)


class _Inbound(ActivityInboundInterceptor):
    def __init__(
        self,
        next: ActivityInboundInterceptor,
        sessions: async_sessionmaker[AsyncSession],
        attempts: int,
    ) -> None:
        super().__init__(next)
        self._sessions = sessions
        self._attempts = attempts

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        except Exception as error:
            refused = refused_value(error)
            info = activity.info()
            if refused is not None:
                message = f"the database refused a value: {refused}"
                await self._alert(input.args, f"{info.activity_type}: {message}; not retried")
                raise ApplicationError(message, type=REFUSED_TYPE, non_retryable=True) from error
            if _retried(error) and info.attempt >= self._attempts:
                await self._alert(
                    input.args,
                    f"{info.activity_type} failed {info.attempt} times, still retrying: "
                    f"{type(error).__name__}: {error}",
                )
            raise

    async def _alert(self, args: Any, message: str) -> None:
        info = activity.info()
        tenant_id = _tenant_of(args)
        if tenant_id is None:  # a sweep over every tenant: an alert belongs to one
            log.error("%s (%s): %s", info.workflow_id, info.activity_type, message)
            return
        alert = NewAlert(
            tenant_id=tenant_id,
            key=_fit(f"{ALERT_KIND}:{info.workflow_id}:{info.activity_type}", 200),
            kind=ALERT_KIND,
            reference_type="workflow",
            reference_id=_fit(info.workflow_id or "", 128),
            message=_fit(f"{info.workflow_id}: {message}", 500),
        )
        try:
            async with asyncio.timeout(ALERT_WRITE_TIMEOUT):
                await raise_alert(self._sessions, alert)
        except Exception:
            log.exception("could not raise alert for %s: %s", info.workflow_id, message)


def _retried(error: Exception) -> bool:
    """Temporal will try this again (a business refusal is not)."""
    return not (isinstance(error, ApplicationError) and error.non_retryable)


def _tenant_of(args: Any) -> int | None:
    """The tenant of an activity's input: its own `tenant_id`, or that of a field
    (an order, a view, a return)."""
    for arg in args:
        candidates = [arg]
        if dataclasses.is_dataclass(arg) and not isinstance(arg, type):
            candidates += [getattr(arg, f.name) for f in dataclasses.fields(arg)]
        for candidate in candidates:
            tenant_id = getattr(candidate, "tenant_id", None)
            if isinstance(tenant_id, int):
                return tenant_id
    return None


def _fit(text: str, size: int) -> str:
    """A column holds it: no NUL (Postgres refuses it in text), at most `size`."""
    text = text.replace("\x00", "\\x00")
    return text if len(text) <= size else text[: size - 1] + "…"
