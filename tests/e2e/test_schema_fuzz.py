"""Schemathesis over every operation of the API's own OpenAPI document, on a small
budget and a fixed seed: valid and invalid requests with an admin key, each answer
checked for a server error, an undocumented status, a wrong content type and a
body off its schema. Requests go through the test's ASGI client (the app shares the
test's Postgres and Temporal), so cases are drawn first and sent after."""

from __future__ import annotations

from typing import Any

import httpx
import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from domain.roles import Role
from tests.conftest import TenantKeys

EXAMPLES_PER_OPERATION = 4
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _draw(strategy: Any, examples: int) -> list[Case[Any]]:
    """`examples` cases of a strategy, the same ones every run."""
    cases: list[Case[Any]] = []

    @hypothesis.settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(strategy)
    def collect(case: Case[Any]) -> None:
        cases.append(case)

    try:
        collect()
    except hypothesis.errors.Unsatisfiable:  # nothing to make invalid (no parameters)
        return []
    return cases


def _request(api: httpx.AsyncClient, case: Case[Any], auth: dict[str, str]) -> httpx.Request | None:
    """The case as an httpx request; None when httpx cannot send it (a header that is
    not Latin-1, say): such a request never reaches a server."""
    kwargs = case.as_transport_kwargs(base_url=str(api.base_url), headers=auth)
    data = kwargs.pop("data", None)
    if isinstance(data, bytes | str):
        kwargs["content"] = data
    elif data is not None:
        kwargs["data"] = data
    kwargs.pop("auth", None)
    try:
        request = api.build_request(**kwargs)
    except (TypeError, ValueError, UnicodeError, httpx.HTTPError):
        return None
    request.headers.update(auth)  # a negative case may have dropped it: reach the handlers
    return request


async def test_schemathesis_finds_no_server_error_undocumented_status_or_schema_violation(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    schema = schemathesis.openapi.from_dict((await api.get("/openapi.json")).json())
    auth = tenant.auth(Role.ADMIN)
    failures: list[str] = []
    sent = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for case in _draw(operation.as_strategy(generation_mode=mode), EXAMPLES_PER_OPERATION):
                request = _request(api, case, auth)
                if request is None:
                    continue
                response = await api.send(request)
                sent += 1
                try:
                    case.validate_response(response, checks=CHECKS, headers=auth)
                except FailureGroup as group:
                    failures.append(f"{operation.label} [{mode.value}]: {group}")
    assert sent >= 200  # every operation was reached, not a handful
    assert failures == [], "\n\n".join(failures[:10])
