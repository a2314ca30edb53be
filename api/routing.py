"""The API's routers. Request bodies are read exactly: JSON numbers with a fraction
or an exponent become `Decimal`, never `float`, so `1.000000000000000000000000000001`
reaches validation as written (and is refused there) instead of being booked as 1."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from decimal import Decimal
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute, APIRouter

from api.problems import PROBLEM_RESPONSES
from api.retry import honours_key, retrying

# Beyond this many digits before the point a number is treated as infinite, which
# every numeric field refuses by name; an exact value that large would only cost
# time to convert (and Python refuses to turn it into an int).
_MAX_MAGNITUDE = 100


def exact_number(text: str) -> Decimal:
    """A JSON number with a fraction or an exponent, as written."""
    value = Decimal(text)
    if value.adjusted() > _MAX_MAGNITUDE:
        return Decimal("-Infinity") if value < 0 else Decimal("Infinity")
    return value


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(body: bytes | str) -> Any:
    """JSON with exact decimals; NaN and Infinity (not JSON) are refused."""
    return json.loads(body, parse_float=exact_number, parse_constant=_not_json)


class ExactJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads(await self.body())
        return self._json


class ExactJsonRoute(APIRoute):
    """A route whose JSON body is decoded by `loads` (every API router uses it), run
    once more when its database connection dies under it and that is safe
    (api/retry.py)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = retrying(super().get_route_handler(), honours_key(self))

        async def exact(request: Request) -> Response:
            return await handle(ExactJsonRequest(request.scope, request.receive))

        return exact


def api_router(**kwargs: Any) -> APIRouter:
    """A router of the /v1 API: exact bodies, the problems every route can answer."""
    return APIRouter(route_class=ExactJsonRoute, responses=PROBLEM_RESPONSES, **kwargs)
