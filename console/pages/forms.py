"""What the transfer and return pages share: lines posted as numbered fields, a
status filter's choices, and a refused action shown on its page again."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from enum import StrEnum
from typing import Any

from fastapi.responses import Response

from console.api_client import Refusal
from console.session import Form

_LINE = re.compile(r"line-(\d+)-")


def posted_lines(
    form: Form, names: Iterable[str], *, filled: Iterable[str]
) -> list[dict[str, str | None]]:
    """Fields `line-<n>-<name>` as one dict per line, in order, keeping the lines
    where one of `filled` was given (a line left blank is not part of the action)."""
    names, filled = tuple(names), tuple(filled)
    numbers = sorted({int(m.group(1)) for k in form.fields() if (m := _LINE.match(k))})
    lines = [{name: form.get(f"line-{n}-{name}") for name in names} for n in numbers]
    return [line for line in lines if any(line[name] is not None for name in filled)]


def status_options(statuses: Iterable[StrEnum]) -> list[tuple[str, str]]:
    """A status filter's choices: any, then each status in words."""
    return [("", "Any status")] + [(s.value, s.value.replace("_", " ")) for s in statuses]


def shown_again(
    page: Callable[..., Awaitable[Response]], form: Form, action: str
) -> Callable[[Refusal], Awaitable[Response]]:
    """The page again after the API refused `action`: its problem and status, next to
    that action's form, with what the operator typed."""

    async def again(problem: Refusal) -> Response:
        context: dict[str, Any] = {"problem": problem, "failed": action, "form": form.fields()}
        return await page(status=problem.status, **context)

    return again
