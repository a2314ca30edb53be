"""What every log line says about its work: the request, the tenant and key, the
business number and workflow, the activity. Set by the API's middleware and
dependencies and by the worker's activity interceptor; read by the log filter.

The fields live in one dict per request or activity, held by a context variable:
tasks and threads started inside see (and add to) the same dict."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

_fields: ContextVar[dict[str, Any] | None] = ContextVar("oms_log_fields", default=None)

# The business workflows' ids (contracts/): `<kind>:<tenant id>:<number>`.
_BUSINESS_ID = re.compile(r"^(order|return|transfer):(\d+):(.+)$")


def workflow_fields(workflow_id: str) -> dict[str, Any]:
    """The workflow id, and the tenant and business number it names, if it does."""
    fields: dict[str, Any] = {"workflow_id": workflow_id}
    match = _BUSINESS_ID.match(workflow_id)
    if match:
        kind, tenant_id, number = match.groups()
        fields["tenant_id"] = int(tenant_id)
        fields[f"{kind}_number"] = number
    return fields


def current() -> Mapping[str, Any]:
    return _fields.get() or {}


def bind(**fields: Any) -> None:
    """Add fields to the current request's or activity's context."""
    current_fields = _fields.get()
    if current_fields is None:
        _fields.set(dict(fields))
    else:
        current_fields.update(fields)


def bind_workflow(workflow_id: str) -> None:
    bind(**workflow_fields(workflow_id))


def begin(**fields: Any) -> Token[dict[str, Any] | None]:
    """Start a fresh context (a new request) in the current task; `end` it with
    the token returned."""
    return _fields.set(dict(fields))


def end(token: Token[dict[str, Any] | None]) -> None:
    _fields.reset(token)


@contextmanager
def scope(**fields: Any) -> Iterator[None]:
    """A fresh context for a unit of work (an activity), gone when it ends."""
    token = _fields.set(dict(fields))
    try:
        yield
    finally:
        _fields.reset(token)
