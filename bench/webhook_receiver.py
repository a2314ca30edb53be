"""The benchmark's webhook receiver, run as its own process:

    python -m bench.webhook_receiver PORT SECRET

A bare asyncio HTTP/1.1 server (keep-alive): every POST is answered 200 at once and
its `webhook-id` recorded with its first arrival time (wall clock, `time.time()`);
one POST in `VERIFY_EVERY` has its signature checked with `standardwebhooks`.
`GET /count` gives how many distinct ids arrived; `GET /arrivals` gives them all
(and the signature checks); `POST /reset` forgets them."""

from __future__ import annotations

import asyncio
import json
import sys
import time

from standardwebhooks.webhooks import Webhook

VERIFY_EVERY = 50
OK = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"


class Receiver:
    def __init__(self, secret: str) -> None:
        self.webhook = Webhook(secret)
        self.reset()

    def reset(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.posts = self.verified = self.bad_signatures = 0

    def received(self, headers: dict[str, str], body: bytes) -> None:
        at = time.time()
        self.posts += 1
        self.arrivals.setdefault(headers.get("webhook-id", ""), at)
        if self.posts % VERIFY_EVERY == 1:
            try:
                self.webhook.verify(body, headers)
                self.verified += 1
            except Exception:
                self.bad_signatures += 1

    def answer(self, method: str, path: str) -> bytes:
        if path == "/count":
            body = str(len(self.arrivals)).encode()
        elif path == "/arrivals":
            body = json.dumps(
                {
                    "arrivals": self.arrivals,
                    "posts": self.posts,
                    "verified": self.verified,
                    "bad_signatures": self.bad_signatures,
                }
            ).encode()
        else:
            if path == "/reset":
                self.reset()
            return OK
        return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if method == "POST" and path not in ("/reset",):
                    self.received(headers, body)
                    writer.write(OK)
                else:
                    writer.write(self.answer(method, path))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def main(port: int, secret: str) -> None:
    receiver = Receiver(secret)
    server = await asyncio.start_server(receiver.serve, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
