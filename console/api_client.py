"""The console's way to the API: every read and every action is a request to the
API's own routes, in process, with the signed-in key. So a page shows what the API
answers and a form is refused exactly as the API refuses it (same validation, same
roles, same problem details): there is no second copy of a rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.types import ASGIApp

from api.request_context import HEADER as REQUEST_ID_HEADER

Params = Mapping[str, str | int | None]


@dataclass(kw_only=True)  # not frozen: Starlette sets __traceback__ on handled errors
class Refusal(Exception):
    """The API said no: its problem details, to show on the page."""

    status: int
    title: str
    detail: str
    errors: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, response: httpx.Response) -> Refusal:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        return cls(
            status=response.status_code,
            title=str(body.get("title") or response.reason_phrase),
            detail=str(body.get("detail") or ""),
            errors=[e for e in body.get("errors") or [] if isinstance(e, dict)],
        )

    def __str__(self) -> str:
        return f"{self.status} {self.title}: {self.detail}"


class ApiTransport:
    """One HTTP client over the API app itself (no socket), shared by every request."""

    def __init__(self, app: ASGIApp) -> None:
        self._http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://console.internal"
        )

    def as_caller(self, key: str, request_id: str | None) -> ConsoleApi:
        return ConsoleApi(self._http, key, request_id)

    async def close(self) -> None:
        await self._http.aclose()


class ConsoleApi:
    """The API as one signed-in operator sees it. Errors raise `Refusal`."""

    def __init__(self, http: httpx.AsyncClient, key: str, request_id: str | None) -> None:
        self._http = http
        self._headers = {"Authorization": f"Bearer {key}"}
        if request_id:  # one id on the console's request and the API calls it made
            self._headers[REQUEST_ID_HEADER] = request_id

    async def get(self, path: str, params: Params | None = None) -> Any:
        response = await self._send("GET", path, params=params)
        return response.json()

    async def get_csv(self, path: str, params: Params | None = None) -> httpx.Response:
        return await self._send("GET", path, params=params, accept="text/csv")

    async def post(self, path: str, body: Any = None, *, idempotency_key: str | None = None) -> Any:
        response = await self._send("POST", path, json=body, idempotency_key=idempotency_key)
        return response.json() if response.content else None

    async def patch(self, path: str, body: Any) -> Any:
        response = await self._send("PATCH", path, json=body)
        return response.json() if response.content else None

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json: Any = None,
        accept: str = "application/json",
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        headers = {**self._headers, "Accept": accept}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        query = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        response = await self._http.request(method, path, params=query, json=json, headers=headers)
        if response.status_code >= 400:
            raise Refusal.of(response)
        return response
