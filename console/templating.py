"""The console's templates (console/templates, Jinja2 with autoescape) and the
filters they share: quantities, times, ages and links that keep the query string."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates
from starlette.datastructures import URL, QueryParams

TEMPLATES = Path(__file__).parent / "templates"


def quantity(value: Any) -> str:
    """A quantity as people write it: 12, 2.5, 0.125 (no trailing zeros)."""
    if value is None or value == "":
        return "—"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = f"{number.normalize():f}"
    return text


def parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def when(value: Any) -> str:
    """A time in UTC, to the minute: 2026-12-02 14:05 UTC."""
    moment = parse_time(value)
    if moment is None:
        return "—" if not value else str(value)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def age(value: Any, now: datetime | None = None) -> str:
    """How long ago: 45 s, 12 min, 3 h, 2 d."""
    moment = parse_time(value)
    if moment is None:
        return "—"
    seconds = max(0, int(((now or datetime.now(UTC)) - moment).total_seconds()))
    for size, unit in ((86_400, "d"), (3_600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def with_query(url: URL, **changes: Any) -> str:
    """This page's path and query with some parameters changed (None removes one)."""
    params = [(k, v) for k, v in QueryParams(url.query).multi_items() if k not in changes]
    params += [(k, str(v)) for k, v in changes.items() if v not in (None, "")]
    return f"{url.path}?{urlencode(params)}" if params else url.path


def humanize(value: Any) -> str:
    """A code as words: in_fulfillment → in fulfillment."""
    return str(value).replace("_", " ") if value is not None else "—"


def build_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=TEMPLATES)
    env = templates.env
    env.filters.update(quantity=quantity, when=when, age=age, humanize=humanize)
    env.globals.update(with_query=with_query)
    env.trim_blocks = True
    env.lstrip_blocks = True
    return templates
