"""Liveness, readiness and metrics for orchestrators and Prometheus."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from temporalio.service import RPCError, RPCStatusCode

from api.deps import ResourcesDep
from api.problems import MEDIA_TYPE, ProblemDetails, problem_response
from api.resources import Resources
from db.migrate import behind_head, schema_revision

router = APIRouter(tags=["operations"])

CHECK_TIMEOUT = 3.0
CONNECTION_ATTEMPTS = 3
CONNECTION_LOST = frozenset({RPCStatusCode.CANCELLED, RPCStatusCode.UNKNOWN})

Check = Callable[[Resources], Awaitable[str | None]]


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz() -> Health:
    return Health(status="ok")


async def _check_postgres(resources: Resources) -> str | None:
    """None when Postgres answers and its schema is one this code runs on
    (db/migrate.py `behind_head`): at the migrations' head, or past it (a newer
    release migrated it: its replicas roll out beside this one's, or its code was
    rolled back); not behind it, not at a revision this code does not know."""
    return behind_head(await schema_revision(resources.engine))


async def _check_temporal(resources: Resources) -> str | None:
    """None when Temporal answers its health check. A connection the server (or
    anything between) has just closed fails the call made on it with CANCELLED or
    UNKNOWN ("transport error"; the frontend closes every connection at its maximum
    age), and the next call opens a new one: a failure with either code is asked
    again, within the probe's timeout, rather than reported as Temporal down."""
    client = await resources.temporal.get()
    for attempt in range(1, CONNECTION_ATTEMPTS):
        try:
            await client.service_client.check_health()
            return None
        except RPCError as error:
            if error.status not in CONNECTION_LOST:
                raise
        await asyncio.sleep(0.05 * attempt)
    await client.service_client.check_health()
    return None


async def _probe(name: str, check: Check, resources: Resources) -> tuple[str, str]:
    try:
        problem = await asyncio.wait_for(check(resources), CHECK_TIMEOUT)
    except TimeoutError:
        return name, f"down: no answer within {CHECK_TIMEOUT:g}s"
    except Exception as exc:
        return name, f"down: {type(exc).__name__}: {exc}".strip()
    return name, "ok" if problem is None else f"not ready: {problem}"


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Postgres (schema migrated) and Temporal are reachable",
    responses={
        503: {
            "model": ProblemDetails,
            "content": {MEDIA_TYPE: {}},
            "description": "Something is down; `checks` says what",
        }
    },
)
async def readyz(request: Request, resources: ResourcesDep) -> Response:
    probes = {"postgres": _check_postgres, "temporal": _check_temporal}
    checks = dict(await asyncio.gather(*(_probe(n, c, resources) for n, c in probes.items())))
    failing = [f"{name} {state}" for name, state in checks.items() if state != "ok"]
    if failing:
        return problem_response(request, 503, "not-ready", "; ".join(failing), checks=checks)
    return JSONResponse(Readiness(status="ready", checks=checks).model_dump())


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)
