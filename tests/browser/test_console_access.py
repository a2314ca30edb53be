"""Signing in and out of the console, and what it refuses: a wrong key, an expired
session, a form that did not come from the console."""

from __future__ import annotations

import json
import time
from base64 import b64decode, b64encode

from itsdangerous import TimestampSigner
from playwright.async_api import expect

from console.session import COOKIE, KeySeal
from domain.api_keys import parse_key
from domain.roles import Role
from tests.browser.console import Console, text
from tests.conftest import CONSOLE_SECRET, TenantKeys


async def test_a_key_signs_in_to_a_session_cookie_and_signing_out_ends_it(
    console: Console, tenant: TenantKeys
) -> None:
    response = await console.open("/")
    assert response.status == 401  # no session: the sign-in form, in place of the page
    await console.check("sign-in")

    await console.sign_in(tenant.keys[Role.VIEWER])
    await expect(console.page.get_by_role("heading", name="Overview")).to_be_visible()
    await expect(console.page.locator(".who")).to_contain_text(f"{tenant.slug} · viewer")
    cookie = next(c for c in await console.page.context.cookies() if c["name"] == COOKIE)
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict", "/console")
    payload = json.loads(b64decode(cookie["value"].split(".")[0]))  # signed, readable JSON
    assert payload["tenant"] == tenant.slug
    secret = parse_key(tenant.keys[Role.VIEWER])
    assert secret is not None
    assert secret.secret not in json.dumps(payload)  # the key itself is sealed
    assert KeySeal(CONSOLE_SECRET).open(payload["key"]) == tenant.keys[Role.VIEWER]

    await console.page.get_by_role("button", name="Sign out").click()
    await console.expect_flash("Signed out")
    assert console.page.url.endswith("/console/sign-in")  # a reload posts nothing again
    assert (await console.open("/")).status == 401


async def test_a_wrong_key_is_refused_with_401_and_signs_nobody_in(
    console: Console, tenant: TenantKeys
) -> None:
    await console.open("/")
    await console.page.get_by_label("API key").fill("oms_not-a-key")
    async with console.page.expect_response(text("/console/sign-in$")) as answer:
        await console.page.get_by_role("button", name="Sign in").click()
    assert (await answer.value).status == 401
    await expect(console.page.get_by_role("alert")).to_contain_text(text("not valid"))
    assert (await console.open("/")).status == 401


async def test_an_expired_session_asks_to_sign_in_again(
    console: Console, tenant: TenantKeys
) -> None:
    """A session cookie signed by this server, last used 9 hours ago (the default
    lifetime is 8 hours of disuse): the page answers 401 and says why."""
    session = {
        "key": KeySeal(CONSOLE_SECRET).seal(tenant.keys[Role.ADMIN]),
        "tenant": tenant.slug,
        "role": "admin",
        "key_id": "x",
        "seen": int(time.time()) - 9 * 3600,
        "csrf": "t",
    }
    value = TimestampSigner(CONSOLE_SECRET).sign(b64encode(json.dumps(session).encode()))
    await console.page.context.add_cookies(
        [{"name": COOKIE, "value": value.decode(), "url": f"{console.url}/"}]
    )
    response = await console.open("/?expired=1")
    assert response.status == 401
    await expect(console.page.get_by_role("alert")).to_contain_text(text("expired"))
    await console.page.get_by_label("API key").fill(tenant.keys[Role.ADMIN])
    await console.page.get_by_role("button", name="Sign in").click()
    await expect(console.page.get_by_role("button", name="Sign out")).to_be_visible()
    assert console.page.url.endswith("/console/?expired=1")


async def test_a_form_without_the_sessions_csrf_token_is_refused_and_changes_nothing(
    console: Console, tenant: TenantKeys
) -> None:
    await console.sign_in(tenant.keys[Role.ADMIN])
    forged = await console.page.request.post(
        f"{console.url}/sign-out", form={"csrf_token": "guessed"}
    )
    assert forged.status == 403
    assert "Nothing was changed" in await forged.text()
    missing = await console.page.request.post(f"{console.url}/sign-out", form={})
    assert missing.status == 403
    assert (await console.open("/")).status == 200  # still signed in


async def test_every_list_page_reads_a_filter_form_left_blank_as_no_filter(
    console: Console, tenant: TenantKeys
) -> None:
    """A GET form sends its empty fields (`status=`): each list answers its page."""
    await console.sign_in(tenant.keys[Role.VIEWER])
    blank = {
        "/inventory": "q=&warehouse=&status=&sort=",
        "/orders": "status=&customer_id=&created_from=&created_to=&cursor=",
        "/queue": "warehouse=&status=&cursor=",
        "/backorders": "sku=&warehouse=&customer_id=",
        "/transfers": "status=&cursor=",
        "/returns": "status=&cursor=",
        "/alerts": "kind=",
        "/movements": "sku=&warehouse=&type=&reference=",
    }
    answers = {
        path: (await console.open(f"{path}?{query}")).status for path, query in blank.items()
    }
    assert answers == dict.fromkeys(blank, 200)
