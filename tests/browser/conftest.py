"""Browser tests: the console served by a real uvicorn on a free port, driven by
Playwright in the system's Chromium (Debian's `chromium`; `make test` installs it when
it can). Without a browser these tests fail, saying how to get one: never skipped."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator

import pytest
import uvicorn
from playwright.async_api import Browser, Page, async_playwright
from temporalio.worker import Worker

from api.app import create_app
from api.resources import Resources
from tests.browser.console import DESKTOP, Console

# What RUNTIME.md found Chromium needs on these machines (root, no network).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = os.environ.get("OMS_TEST_CHROMIUM") or next(
        filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None
    )
    if path is None:
        pytest.fail(
            "the browser tests need Chromium: `make test` installs Debian's `chromium` when run "
            "as root; otherwise install it (apt-get install chromium) or set OMS_TEST_CHROMIUM "
            "to a Chromium or Chrome binary"
        )
    return path


@pytest.fixture(scope="session")
async def console_url(resources: Resources, dev_worker: Worker) -> AsyncIterator[str]:
    """The API (and its console) listening on 127.0.0.1, with the worker running."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(resources=resources), host="127.0.0.1", port=0, log_level="warning"
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # the server's own error
        await asyncio.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/console"
    server.should_exit = True
    await task


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser profile (no cookies) at desktop size."""
    context = await browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(15_000)
    page = await context.new_page()
    yield page
    await context.close()


@pytest.fixture
def console(page: Page, console_url: str) -> Console:
    return Console(page, console_url)
