"""A request whose database connection died under it (Postgres restarted, a
pooled connection dropped) runs once more on a fresh connection, when repeating it
is safe: a read, or a write carrying an Idempotency-Key to a route that honours it
(the key makes the second run replay or finish the first, never do it twice). Any
other write answers 503."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AsyncExitStack
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError

from db import failures

log = logging.getLogger(__name__)

Handler = Callable[[Request], Coroutine[Any, Any, Response]]

READS = frozenset({"GET", "HEAD", "OPTIONS"})

# Where FastAPI keeps the exit stacks of a request's dependencies (its sessions).
_DEPENDENCY_STACKS = ("fastapi_inner_astack", "fastapi_function_astack")


KEY_HEADER = "idempotency-key"


def honours_key(route: APIRoute) -> bool:
    """The route reads Idempotency-Key (a route that ignores it is not made safe by it)."""
    return KEY_HEADER in set(_headers(route.dependant))


def _headers(dependant: Dependant) -> Iterator[str]:
    yield from (param.alias.lower() for param in dependant.header_params)
    for dependency in dependant.dependencies:
        yield from _headers(dependency)


async def _attempt(handler: Handler, request: Request) -> Response:
    """Run the route with dependency stacks of its own, so an attempt's sessions
    are closed (rolled back on error) before the next attempt opens new ones."""
    saved = {name: request.scope.get(name) for name in _DEPENDENCY_STACKS}
    try:
        async with AsyncExitStack() as inner:
            request.scope[_DEPENDENCY_STACKS[0]] = inner
            async with AsyncExitStack() as function:
                request.scope[_DEPENDENCY_STACKS[1]] = function
                return await handler(request)
    finally:
        request.scope.update(saved)


def retrying(handler: Handler, keyed: bool) -> Handler:
    """`handler`, run once more on a lost connection; `keyed`: the route honours
    Idempotency-Key (`honours_key`)."""

    def repeatable(request: Request) -> bool:
        return request.method in READS or (keyed and KEY_HEADER in request.headers)

    async def run(request: Request) -> Response:
        try:
            return await _attempt(handler, request)
        except DBAPIError as error:
            if not (failures.connection_lost(error) and repeatable(request)):
                raise
            log.warning(
                "%s %s: database connection lost, running it again",
                request.method,
                request.url.path,
            )
        return await _attempt(handler, request)

    return run
