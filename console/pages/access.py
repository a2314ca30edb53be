"""Sign in with an API key, sign out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.api_client import Refusal
from console.rendering import sign_in_page
from console.session import end_session, flash, read_form, start_session, transport

router = APIRouter()


def _safe_next(value: str | None) -> str:
    """Only a console page (no other site, no scheme-relative //host)."""
    if value and value.startswith("/console") and not value.startswith("//"):
        return value
    return "/console/"


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request, next: str | None = None) -> HTMLResponse:
    return sign_in_page(request, next_url=_safe_next(next))


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    form = await read_form(request)
    next_url = _safe_next(form.get("next"))
    key = form.get("api_key")
    if key is None:
        return sign_in_page(request, message="Enter your API key.", status=422, next_url=next_url)
    try:
        me = await transport(request).as_caller(key, None).get("/v1/me")
    except Refusal as refusal:
        message = (
            "That API key is not valid, or it has been revoked."
            if refusal.status == 401
            else f"Could not sign in: {refusal.detail or refusal.title}"
        )
        return sign_in_page(request, message=message, status=refusal.status, next_url=next_url)
    start_session(request, key, me)
    return RedirectResponse(next_url, status_code=303)


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    await read_form(request)
    end_session(request)
    flash(request, "Signed out.")
    return RedirectResponse("/console/sign-in", status_code=303)  # a reload posts nothing
