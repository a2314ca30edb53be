"""Pages and actions: render a template with what every page shows (the operator,
the flash message, the CSRF token), and run a form's API call the same way on every
page (done: a message and a redirect, so a reload does not repeat it; refused: the
page again with the problem and the API's status code, and the operator's input)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.api_client import Refusal
from console.session import Operator, csrf_token, flash, new_idempotency_key, take_flash
from console.templating import build_templates

_templates = build_templates()

# The main menu: (path, label). Pages mark themselves with `active=<path>`.
NAV = (
    ("/console/", "Overview"),
    ("/console/inventory", "Inventory"),
    ("/console/orders", "Orders"),
    ("/console/queue", "Fulfillment queue"),
    ("/console/backorders", "Backorders"),
    ("/console/transfers", "Transfers"),
    ("/console/returns", "Returns"),
    ("/console/alerts", "Alerts"),
    ("/console/movements", "Movements"),
    ("/console/warehouses", "Warehouses"),
)


def render(
    request: Request,
    template: str,
    operator: Operator | None,
    *,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A whole page. `context` may carry `problem` (a Refusal to show above the
    form that caused it) and `form` (the fields to put back)."""
    return _templates.TemplateResponse(
        request,
        template,
        {
            "operator": operator,
            "can": operator.can if operator else None,
            "csrf": csrf_token(request),
            "flash": take_flash(request),
            "nav": NAV,
            "idempotency_key": new_idempotency_key(),
            "temporal_run_url": request.app.state.temporal_run_url,
            "form": {},
            **context,
        },
        status_code=status,
    )


def sign_in_page(
    request: Request,
    *,
    message: str | None = None,
    status: int = 200,
    next_url: str = "/console/",
    problem: Refusal | None = None,
) -> HTMLResponse:
    return render(
        request,
        "sign_in.html",
        None,
        status=status,
        message=message,
        next_url=next_url,
        problem=problem,
    )


async def act(
    request: Request,
    call: Awaitable[Any],
    *,
    done: str,
    then: str,
    refused: Callable[[Refusal], Awaitable[Response]],
) -> Response:
    """Run one action (an API call). Done: flash `done`, redirect (303) to `then`.
    Refused: `refused(problem)` renders the page again with it. A 401 (key revoked)
    goes to the console's handler, which asks to sign in again."""
    try:
        await call
    except Refusal as refusal:
        if refusal.status == 401:
            raise
        return await refused(refusal)
    flash(request, done)
    return RedirectResponse(then, status_code=303)
