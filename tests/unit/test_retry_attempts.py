"""api/retry.py runs a route once more after a lost database connection, each attempt
with dependency scopes of its own. It does so through FastAPI's internal scope keys:
this test fails if a FastAPI release stops honouring them (the first attempt's
session would then stay open while the second runs)."""

from collections.abc import AsyncIterator
from typing import Annotated

import httpx
from fastapi import Depends, FastAPI
from sqlalchemy.exc import OperationalError

from api.routing import api_router


def _lost_connection() -> OperationalError:
    error = OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    error.connection_invalidated = True
    return error


async def test_a_read_whose_connection_died_runs_again_after_the_first_attempt_closed() -> None:
    events: list[str] = []

    async def session() -> AsyncIterator[int]:
        attempt = sum(e.startswith("open") for e in events) + 1
        events.append(f"open {attempt}")
        try:
            yield attempt
        finally:
            events.append(f"close {attempt}")

    router = api_router()

    @router.get("/thing")
    async def thing(attempt: Annotated[int, Depends(session)]) -> dict[str, int]:
        if attempt == 1:
            raise _lost_connection()
        return {"attempt": attempt}

    app = FastAPI()
    app.include_router(router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/thing")

    assert response.json() == {"attempt": 2}
    assert events == ["open 1", "close 1", "open 2", "close 2"]
