"""A real HTTP receiver of webhooks for tests: listens on 127.0.0.1 (a free port),
verifies every request's signature with the `standardwebhooks` package against each
secret it holds, records what came, and answers as a test scripts it (fail N times,
410, 429 with Retry-After...)."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from cli.embedded import free_port

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Received:
    webhook_id: str
    headers: dict[str, str]
    body: bytes
    verified_by: list[str]  # the secrets whose signature verified
    answered: int

    @property
    def event(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.body)
        return result


class Receiver:
    def __init__(self, secrets: list[str]) -> None:
        self.secrets = list(secrets)  # a request must verify with each of these
        self.received: list[Received] = []
        self.forged: list[tuple[str, str]] = []  # (webhook id, why) of what did not verify
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.delay = 0.0  # seconds before answering
        self._scripts: dict[str | None, deque[Reply]] = {}
        self._came = asyncio.Event()

    def answer(self, *replies: Reply, webhook_id: str | None = None) -> None:
        """Answer the next requests (of this webhook id, or any) so, then 200."""
        self._scripts.setdefault(webhook_id, deque()).extend(replies)

    def ids(self) -> list[str]:
        return [r.webhook_id for r in self.received]

    def delivered(self) -> list[dict[str, Any]]:
        """The events answered 2xx, in the order they came."""
        return [r.event for r in self.received if 200 <= r.answered < 300]

    async def wait_for(self, count: int, *, within: float = 30.0) -> None:
        """Until `count` events were answered 2xx (TimeoutError after `within` s)."""
        async with asyncio.timeout(within):
            while len(self.delivered()) < count:
                self._came.clear()
                await self._came.wait()

    def _reply(self, webhook_id: str) -> Reply:
        for key in (webhook_id, None):
            script = self._scripts.get(key)
            if script:
                return script.popleft()
        return Reply()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the sender died mid-request (a killed worker): nothing arrived
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        webhook_id = headers.get("webhook-id", "")
        verified = []
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError as error:
                self.forged.append((webhook_id, str(error)))
            else:
                verified.append(secret)
        reply = self._reply(webhook_id) if len(verified) == len(self.secrets) else Reply(status=400)
        if self.delay:
            await asyncio.sleep(self.delay)
        self.received.append(
            Received(
                webhook_id=webhook_id,
                headers=headers,
                body=body,
                verified_by=verified,
                answered=reply.status,
            )
        )
        self._came.set()
        await send(
            {
                "type": "http.response.start",
                "status": reply.status,
                "headers": [(k.encode(), v.encode()) for k, v in reply.headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": b""})


@asynccontextmanager
async def running(receiver: Receiver) -> AsyncIterator[Receiver]:
    server = uvicorn.Server(
        uvicorn.Config(
            receiver,
            host="127.0.0.1",
            port=receiver.port,
            log_level="error",
            lifespan="off",
            access_log=False,
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task
