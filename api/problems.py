"""RFC 9457 problem+json for every error the API returns."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

from db import failures
from domain.errors import DomainError, QuantityFormat, Wording

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"

# A dependency (Postgres, Temporal) is down or too slow: try again after this.
RETRY_LATER = {"Retry-After": "5"}

# Temporal answers that say "not now" rather than "no": the call may succeed later.
TEMPORAL_UNAVAILABLE = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.CANCELLED,
}


class FieldError(BaseModel):
    field: str = Field(examples=["body.lines.0.quantity"])
    message: str = Field(examples=["Input should be greater than 0"])
    type: str = Field(examples=["greater_than"])


class ProblemDetails(BaseModel):
    """An error, as application/problem+json (RFC 9457)."""

    type: str = Field(examples=["urn:oms:problem:not-found"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["warehouse 'WH9' does not exist"])
    instance: str | None = None
    field: str | None = Field(None, description="the input field at fault, when there is one")
    errors: list[FieldError] | None = Field(None, description="per-field validation errors")
    checks: dict[str, str] | None = Field(None, description="readiness: the state of each part")
    shortages: list[dict[str, Any]] | None = Field(
        None, description="insufficient stock: every short line with what is available"
    )
    update: str | None = Field(
        None,
        description="a step that timed out: `not accepted` (sent; the workflow has not "
        "taken it up yet), `accepted` (taken up, not finished) or `unknown` (Temporal "
        "did not say)",
    )
    last_known_status: str | None = Field(
        None, description="a step that timed out: the status last recorded, if known"
    )
    rows: list[dict[str, Any]] | None = Field(
        None, description="a file's bad rows, every one: `row` (line number), `field`, `message`"
    )
    waited_seconds: float | None = Field(
        None,
        description="a step refused because it came early: how long it waited for what "
        "enables it (absent when the step was refused at once)",
    )


class Problem(Exception):
    """Raise from a route to answer with a problem."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
        wording: Wording | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field
        self.headers = headers
        self.extensions = extensions or {}
        self.wording = wording  # `detail` with its quantities apart, to say in display units


def unavailable(detail: str) -> Problem:
    """503: a dependency cannot answer now; the client may retry after Retry-After."""
    return Problem(503, "unavailable", detail, headers=RETRY_LATER)


def timeout(detail: str, extensions: dict[str, Any] | None = None) -> Problem:
    """504: no answer within the bound; the work may still complete."""
    return Problem(504, "timeout", detail, headers=RETRY_LATER, extensions=extensions)


class TemporalUnreachable(Exception):
    """The API could not connect to Temporal."""


def problem_response(
    request: Request,
    status: int,
    code: str,
    detail: str,
    *,
    field: str | None = None,
    errors: list[FieldError] | None = None,
    checks: dict[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    body = ProblemDetails(
        type=f"urn:oms:problem:{code}",
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=request.url.path,
        field=field,
        errors=errors,
        checks=checks,
        **(extensions or {}),
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def _first_line(exc: DBAPIError) -> str:
    return str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    """A field's path, printable as UTF-8 (a map key may hold a lone surrogate); a
    part longer than 64 characters (a huge map key) is cut."""
    path = ".".join(str(part)[:64] for part in loc)
    return path.encode("utf-8", "backslashreplace").decode("utf-8")


# How the request's caller says the quantities of these SKUs (None: it cannot tell).
QuantitiesOf = Callable[[Request, set[str]], Awaitable[QuantityFormat | None]]


def install_problem_handlers(app: FastAPI, quantities: QuantitiesOf | None = None) -> None:
    """Every error as problem+json; a detail naming quantities says them as
    `quantities` does (the items' display units), else in base units."""

    async def said(request: Request, detail: str, wording: Wording | None) -> str:
        if wording is None or not wording.amounts or quantities is None:
            return detail
        say = await quantities(request, {a.sku for a in wording.amounts.values()})
        return detail if say is None else wording.render(say)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            request,
            exc.status,
            exc.code,
            await said(request, exc.detail, exc.wording),
            field=exc.field,
            headers=exc.headers,
            extensions=exc.extensions,
        )

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        detail = await said(request, exc.detail, exc.wording)
        return problem_response(request, exc.status, exc.code, detail, field=exc.field)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        malformed = [e for e in exc.errors() if e["type"] == "json_invalid"]
        if malformed:
            where = malformed[0]["loc"][-1]
            return problem_response(
                request, 400, "malformed-json", f"the body is not valid JSON (at character {where})"
            )
        errors = [
            FieldError(field=_location(e["loc"]), message=e["msg"], type=e["type"])
            for e in exc.errors()
        ]
        fields = ", ".join(e.field for e in errors)
        return problem_response(
            request, 422, "validation", f"invalid input: {fields}", errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = getattr(exc, "code", None) or HTTPStatus(exc.status_code).phrase.lower().replace(
            " ", "-"
        )
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route {request.method} {request.url.path}"
        return problem_response(request, exc.status_code, code, detail, headers=exc.headers)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if failures.unreachable(exc):
            log.warning(
                "database unavailable on %s %s: %s",
                request.method,
                request.url.path,
                _first_line(exc),
            )
            problem = unavailable(f"the database is unavailable: {_first_line(exc)}")
            return await _problem(request, problem)
        if failures.timed_out(exc):
            problem = timeout(f"the database did not answer in time ({_first_line(exc)})")
            return await _problem(request, problem)
        # A value the database refuses (too long, out of range) or a constraint it
        # enforces is the client's input, not a server fault.
        sqlstate = failures.sqlstate(exc)
        if sqlstate.startswith("22"):
            return problem_response(
                request, 422, "value-out-of-range", f"a value does not fit: {_first_line(exc)}"
            )
        if sqlstate.startswith("23"):
            return problem_response(
                request, 409, "constraint", f"refused by a constraint: {_first_line(exc)}"
            )
        return await _unexpected(request, exc)

    @app.exception_handler(PoolTimeout)
    async def _pool(request: Request, exc: PoolTimeout) -> JSONResponse:
        return await _problem(request, unavailable("no database connection free in time"))

    @app.exception_handler(RPCError)
    async def _temporal(request: Request, exc: RPCError) -> JSONResponse:
        if exc.status in TEMPORAL_UNAVAILABLE:
            problem = unavailable(f"the workflow service could not answer: {exc}")
            return await _problem(request, problem)
        return await _unexpected(request, exc)

    @app.exception_handler(TemporalUnreachable)
    async def _no_temporal(request: Request, exc: TemporalUnreachable) -> JSONResponse:
        return await _problem(request, unavailable(f"the workflow service is unreachable: {exc}"))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(request, 500, "internal", "internal error; it has been logged")


def _documented(description: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": ProblemDetails,
        "content": {MEDIA_TYPE: {}},
        "description": description,
        **extra,
    }


RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "schema": {"type": "integer"},
    }
}

# Every problem the API answers with, by status, naming its problem types
# (`urn:oms:problem:<type>`). api/openapi.py gives each route the ones it can answer.
PROBLEM_DOCS: dict[int, dict[str, Any]] = {
    400: _documented(
        "`malformed-json`: the body is not JSON; `idempotency-key-required`: a stock change "
        "without an Idempotency-Key; `bad-request`: the body could not be read"
    ),
    401: _documented("`unauthenticated`: missing, invalid or revoked API key"),
    403: _documented("`forbidden`: the key's role may not do this"),
    404: _documented("`not-found`: the resource, or one the request names, does not exist"),
    409: _documented(
        "`refused`, `conflict`, `constraint`, `insufficient-stock`, `idempotency-key-reused`, "
        "`…-exists`: the current state does not allow it; nothing was changed"
    ),
    413: _documented("`content-too-large`: the body is over the limit (OMS_MAX_BODY_BYTES)"),
    415: _documented("`unsupported-media-type`: the body is not of the type the route reads"),
    422: _documented(
        "`validation`: invalid input, every field named in `errors`; `invalid-input`, "
        "`invalid-quantity`, `value-out-of-range`: a value the item or the state refuses; "
        "`unsafe-url`: a webhook URL that may not receive deliveries; `invalid-header`, "
        "`invalid-rows`: a CSV file's header or rows (every bad row in `rows`)"
    ),
    503: _documented(
        "`unavailable`: Postgres or Temporal cannot answer now (down, no free connection, "
        "no answer in time); retry after `Retry-After` seconds",
        headers=RETRY_AFTER,
    ),
    504: _documented(
        "`timeout`: a database statement ran (or waited for a lock) past its timeout, or "
        "the workflow did not finish a step in time (`update`: `accepted`, `not accepted` "
        "or `unknown`, `last_known_status`); a step may still complete: read the resource "
        "to see the outcome",
        headers=RETRY_AFTER,
    ),
}

# The problems of every /v1 route (given to each router).
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: PROBLEM_DOCS[status] for status in (401, 403, 404, 409, 422, 503)
}


def repeated(model: type[BaseModel], noun: str) -> dict[int | str, dict[str, Any]]:
    """The 200 of a create that is replayed: the same request again answers with
    what the first one made (a route's `responses=`)."""
    return {200: {"model": model, "description": f"a repeat of the same request: the {noun}"}}
