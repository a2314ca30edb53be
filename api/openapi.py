"""The OpenAPI document, completed by rule in one place: every operation lists every
problem status it can answer, each as application/problem+json with its types."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from api.problems import MEDIA_TYPE, PROBLEM_DOCS

# Marks a parameter the document lists as required although the route reads it as
# optional, to answer its own problem (e.g. 400 without an Idempotency-Key on a stock
# change) rather than a generic 422.
REQUIRED_IN_OPENAPI = "x-oms-required"

_PROBLEM_SCHEMA = {"$ref": "#/components/schemas/ProblemDetails"}


def problems_of(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The problem statuses an operation can answer, beyond those its router lists."""
    statuses: set[int] = set()
    headers = {p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"}
    if "requestBody" in operation:
        statuses |= {400, 413, 422}  # malformed JSON, over the size limit, invalid
    if "idempotency-key" in headers:
        statuses.add(400)  # required by stock changes
    if operation.get("parameters"):
        statuses.add(422)
    if operation.get("security"):
        statuses.add(401)
    if path.startswith("/v1/"):
        # every /v1 route reads Postgres (statement timeout) or Temporal (step bound)
        statuses |= {503, 504}
    return statuses


def _problem(status: int, documented: dict[str, Any] | None) -> dict[str, Any]:
    """The problem answer for `status`; a route's own problem description is kept
    (FastAPI's default 422 "Validation Error" is not one)."""
    known = PROBLEM_DOCS.get(status, {})
    if documented is not None and MEDIA_TYPE in documented.get("content", {}):
        known = documented
    answer: dict[str, Any] = {
        "description": known.get("description", ""),
        "content": {MEDIA_TYPE: {"schema": _PROBLEM_SCHEMA}},
    }
    if "headers" in known:
        answer["headers"] = known["headers"]
    return answer


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """Add the problems each operation can answer and give every error response the
    problem+json schema (FastAPI puts a router's under application/json)."""
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                _mark_required(parameter)
            responses = operation.setdefault("responses", {})
            wanted = {str(s) for s in problems_of(path, method, operation)}
            for status in wanted | {s for s in responses if s[0] in "45"}:
                responses[status] = _problem(int(status), responses.get(status))
            operation["responses"] = dict(sorted(responses.items()))
    return document


def _mark_required(parameter: dict[str, Any]) -> None:
    schema = parameter.get("schema", {})
    if not schema.pop(REQUIRED_IN_OPENAPI, False):
        return
    parameter["required"] = True
    present = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    if len(present) == 1:  # `str | None` read by the route; the document says: a string
        del schema["anyOf"]
        schema.update(present[0])


def install_openapi(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        return complete(generate())  # generate() caches; complete() is idempotent

    app.openapi = openapi  # type: ignore[method-assign]
