"""One logging setup for `oms api`, `oms worker` and `oms dev`: readable text lines
(default) or JSON lines (OMS_LOG_FORMAT=json), each carrying the context of its
work (observability/context.py) and, when tracing is on, its trace id."""

from __future__ import annotations

import logging
import sys
from typing import IO, Any

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter
from temporalio import activity, workflow

from observability import context
from settings import Settings

# In the order a text line shows them.
FIELDS = (
    "request_id",
    "tenant_id",
    "key_id",
    "order_number",
    "return_number",
    "transfer_number",
    "workflow_id",
    "activity",
    "attempt",
    "update",
    "trace_id",
)
# Extras other libraries put on records that the fields above already say, or that
# only a terminal can show (uvicorn's colours).
_NOT_SHOWN = ("temporal_workflow", "temporal_activity", "color_message")
# INFO lines nobody needs: alembic announcing its plugins when the API starts.
# httpx logs each webhook request's whole URL (a receiver's token in its query too)
_QUIET = ("alembic.runtime.plugins", "httpx", "httpcore")


class ContextFilter(logging.Filter):
    """Puts the context's fields on every record. Workflow code logs through
    `workflow.logger`, whose records carry the workflow's details instead (a
    workflow runs in its own thread, outside any request or activity); so do the
    SDK's lines about an activity's outcome (written after it has returned)."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = dict(context.current())
        details = getattr(record, "temporal_workflow", None)
        if isinstance(details, dict) and "workflow_id" in details:
            fields.update(context.workflow_fields(details["workflow_id"]))
            if "update_name" in details:
                fields["update"] = details["update_name"]
        details = getattr(record, "temporal_activity", None)  # the SDK's own lines
        if isinstance(details, dict) and details.get("workflow_id"):
            fields.update(context.workflow_fields(details["workflow_id"]))
            fields.update(activity=details.get("activity_type"), attempt=details.get("attempt"))
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            fields["trace_id"] = format(span.trace_id, "032x")
        for name, value in fields.items():
            setattr(record, name, value)
        return True


class TextFormatter(logging.Formatter):
    """`time level logger message [field=value …]`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        pairs = [f"{name}={getattr(record, name)}" for name in FIELDS if hasattr(record, name)]
        if not pairs:
            return line
        head, newline, tail = line.partition("\n")  # a traceback stays below the fields
        return f"{head} [{' '.join(pairs)}]{newline}{tail}"


def json_formatter() -> logging.Formatter:
    """`{"time": ISO 8601 UTC, "level", "logger", "message", fields…}` per line."""
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        reserved_attrs=[*_RESERVED, *_NOT_SHOWN],
        timestamp="time",
    )


# What every record has (python-json-logger's default list, plus the message).
_RESERVED = (*logging.LogRecord("", 0, "", 0, "", None, None).__dict__, "message")


def handler(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    """A handler that writes the configured format with context fields."""
    out = logging.StreamHandler(stream or sys.stderr)
    out.addFilter(ContextFilter())
    out.setFormatter(json_formatter() if settings.log_format == "json" else TextFormatter())
    return out


def configure_logging(settings: Settings, stream: IO[str] | None = None) -> None:
    """Route every logger (ours, uvicorn's, Temporal's) to one handler at the root."""
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler(settings, stream))
    root.setLevel(settings.log_level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    # The fields above say which workflow and activity a line is about: the SDK's
    # loggers need not append their info dict to each message too.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False


def log_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The context fields a record carries (tests and tools read them)."""
    return {name: getattr(record, name) for name in FIELDS if hasattr(record, name)}
