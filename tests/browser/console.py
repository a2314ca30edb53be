"""Driving the console in a browser: sign in, go to a page, check a page (axe-core
accessibility, no sideways scrolling on a phone, screenshots at both widths)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, ViewportSize, expect
from playwright.async_api import Response as PageResponse

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "console"  # ignored by git; CI keeps it as an artifact

DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)

_axe = Axe()


@dataclass
class Console:
    page: Page
    url: str  # http://127.0.0.1:<port>/console

    async def open(self, path: str = "/") -> PageResponse:
        response = await self.page.goto(f"{self.url}{path}")
        assert response is not None
        return response

    async def sign_in(self, key: str, path: str = "/") -> None:
        """Open a page, sign in on the form it shows, and land on that page."""
        await self.open(path)
        await self.page.get_by_label("API key").fill(key)
        await self.page.get_by_role("button", name="Sign in").click()
        await expect(self.page.get_by_role("button", name="Sign out")).to_be_visible()

    async def check(self, name: str) -> None:
        """The page as it is now: no serious accessibility violation, nothing wider
        than a phone's screen outside its own scrolling region, screenshots saved."""
        await _assert_accessible(self.page, name)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=SCREENSHOTS / f"{name}-desktop.png", full_page=True)
        await self.page.set_viewport_size(PHONE)
        try:
            overflow = await self.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{name}: the page is {overflow}px wider than a phone"
            await _assert_accessible(self.page, f"{name} (phone)")
            await self.page.screenshot(path=SCREENSHOTS / f"{name}-phone.png", full_page=True)
        finally:
            await self.page.set_viewport_size(DESKTOP)

    async def expect_flash(self, pattern: str) -> None:
        """The message an action leaves on the page it redirects to."""
        await expect(self.page.locator(".flash")).to_contain_text(text(pattern))

    async def expect_problem(self, pattern: str) -> None:
        """The API's refusal, shown on the page, with nothing changed."""
        problem = self.page.get_by_role("alert")
        await expect(problem).to_contain_text(text(pattern))


async def _assert_accessible(page: Page, name: str) -> None:
    results = await _axe.run(page)
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(n["target"][0] for n in v["nodes"][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], f"{name}: accessibility violations: {serious}"


def text(pattern: str) -> re.Pattern[str]:
    """A case-insensitive pattern for Playwright's text matchers."""
    return re.compile(pattern, re.IGNORECASE)
