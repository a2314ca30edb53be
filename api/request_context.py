"""Every request gets an id: the caller's `X-Request-Id` when it sends a sane one,
else a new one; it is answered in `X-Request-Id` and put on every log line of the
request (observability/context.py), with the tenant and key once authenticated."""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observability import context

HEADER = "x-request-id"
_SANE = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")


def request_id_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == HEADER.encode():
            sent: str = value.decode("latin-1")
            if _SANE.match(sent):
                return sent
            break
    return uuid.uuid4().hex


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        token = context.begin(request_id=request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                headers.append((HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)
        # Not in a `finally`: an unexpected error is logged by its handler outside
        # every middleware, after this, and that line should carry the request's id.
        context.end(token)
