"""What the transfer and return pages share: a list filtered by status, lines posted
as numbered fields, and steps (an API call from a form) whose refusal shows the page
again next to that step's form."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from enum import StrEnum
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from console.api_client import Refusal
from console.filters import choices
from console.rendering import act, render
from console.session import Form, Operator

_LINE = re.compile(r"line-(\d+)-")


class StatusList:
    """A list page: one page of the API list at `api`, newest first, maybe of one
    status (a filter offering `statuses`), rendered with `template`."""

    def __init__(self, *, api: str, template: str, active: str, statuses: type[StrEnum]) -> None:
        self._api, self._template, self._active = api, template, active
        self._options = choices(statuses)

    async def show(
        self, request: Request, operator: Operator, status: StrEnum | None, cursor: str | None
    ) -> HTMLResponse:
        chosen = status.value if status else ""
        page = await operator.api.get(self._api, {"status": chosen, "cursor": cursor})
        return render(
            request,
            self._template,
            operator,
            active=self._active,
            page=page,
            statuses=self._options,
            chosen=chosen,
        )


def posted_lines(
    form: Form, names: Iterable[str], *, filled: Iterable[str]
) -> list[dict[str, str | None]]:
    """Fields `line-<n>-<name>` as one dict per line, in order, keeping the lines
    where one of `filled` was given (a line left blank is not part of the action)."""
    names, filled = tuple(names), tuple(filled)
    numbers = sorted({int(m.group(1)) for k in form.fields() if (m := _LINE.match(k))})
    lines = [{name: form.get(f"line-{n}-{name}") for name in names} for n in numbers]
    return [line for line in lines if any(line[name] is not None for name in filled)]


class Steps:
    """The steps of one kind of thing (a transfer, a return): a form POSTs to the API's
    `<api>/<key>/<step>` with the form's idempotency key. Done: a message flashed on
    `<url>/<key>`. Refused: that page again (`page(request, operator, key, status=,
    **context)`) with the problem and the API's status next to the form of the step,
    with what the operator typed."""

    def __init__(self, *, api: str, url: str, page: Callable[..., Awaitable[Response]]) -> None:
        self._api, self._url, self._page = api, url, page

    async def take(
        self,
        request: Request,
        operator: Operator,
        form: Form,
        *,
        key: str,
        step: str,
        body: Any,
        done: str,
    ) -> Response:
        async def again(problem: Refusal) -> Response:
            context = {"problem": problem, "failed": step, "form": form.fields()}
            return await self._page(request, operator, key, status=problem.status, **context)

        call = operator.api.post(
            f"{self._api}/{key}/{step}", body, idempotency_key=form.idempotency_key
        )
        return await act(request, call, done=done, then=f"{self._url}/{key}", refused=again)
