"""Warehouses and their locations: the list with a create form, and one warehouse's
facts with an edit form and its locations as a tree (create, edit, deactivate).
Admins act; everyone else reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from console.api_client import Refusal
from console.filters import given
from console.rendering import act, render
from console.session import FormDep, Operator, OperatorDep
from domain.catalogue import LocationType

router = APIRouter()

ACTIVE = "/console/warehouses"
TYPE_OPTIONS = [(t.value, t.value) for t in LocationType]


@dataclass(frozen=True, kw_only=True)
class Branch:
    """A location and the locations inside it."""

    location: dict[str, Any]
    children: list[Branch] = field(default_factory=list)


def location_tree(locations: list[dict[str, Any]]) -> list[Branch]:
    """Locations nested under their parents, in the order given (a location whose
    parent is not among them is a root)."""
    codes = {x["code"] for x in locations}
    by_parent: dict[str | None, list[dict[str, Any]]] = {}
    for x in locations:
        parent = x.get("parent_code")
        by_parent.setdefault(parent if parent in codes else None, []).append(x)

    def grow(parent: str | None) -> list[Branch]:
        return [Branch(location=x, children=grow(x["code"])) for x in by_parent.get(parent, [])]

    return grow(None)


def _flag(value: str | None) -> bool | None:
    """A yes/no select: "true", "false", or blank (unchanged)."""
    return None if value is None else value == "true"


def _path(code: str) -> str:
    return f"/v1/warehouses/{quote(code, safe='')}"


@router.get("/warehouses", response_class=HTMLResponse)
async def warehouses(request: Request, operator: OperatorDep) -> HTMLResponse:
    return await _list_page(request, operator)


async def _list_page(
    request: Request,
    operator: Operator,
    *,
    problem: Refusal | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    page = await operator.api.get("/v1/warehouses")
    return render(
        request,
        "warehouses.html",
        operator,
        status=problem.status if problem else 200,
        active=ACTIVE,
        warehouses=page["items"],
        problem=problem,
        form=form or {},
    )


@router.post("/warehouses")
async def create_warehouse(request: Request, form: FormDep, operator: OperatorDep) -> Response:
    code = form.get("code")
    body = given(
        code=code,
        name=form.get("name"),
        priority=form.get("priority"),
        timezone=form.get("timezone"),
    )

    async def refused(problem: Refusal) -> Response:
        return await _list_page(request, operator, problem=problem, form=form.fields())

    return await act(
        request,
        operator.api.post("/v1/warehouses", body, idempotency_key=form.idempotency_key),
        done=f"Created warehouse {code}.",
        then=f"{ACTIVE}/{quote(code or '', safe='')}",
        refused=refused,
    )


@router.get("/warehouses/{code}", response_class=HTMLResponse)
async def warehouse(request: Request, code: str, operator: OperatorDep) -> HTMLResponse:
    return await _warehouse_page(request, operator, code)


async def _warehouse_page(
    request: Request,
    operator: Operator,
    code: str,
    *,
    problem: Refusal | None = None,
    target: str | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    """The warehouse page; a refused form's `problem` is shown at `target`
    ("warehouse", "location" or "location:<code>")."""
    found = await operator.api.get(_path(code))
    locations = (await operator.api.get(f"{_path(code)}/locations"))["items"]
    return render(
        request,
        "warehouse.html",
        operator,
        status=problem.status if problem else 200,
        active=ACTIVE,
        warehouse=found,
        locations=locations,
        tree=location_tree(locations),
        type_options=TYPE_OPTIONS,
        parent_options=[("", "(no parent)")] + [(x["code"], x["code"]) for x in locations],
        problem=problem,
        target=target,
        form=form or {},
    )


async def _change(
    request: Request,
    operator: Operator,
    code: str,
    form: FormDep,
    *,
    call: Any,
    done: str,
    target: str,
) -> Response:
    async def refused(problem: Refusal) -> Response:
        return await _warehouse_page(
            request, operator, code, problem=problem, target=target, form=form.fields()
        )

    then = f"{ACTIVE}/{quote(code, safe='')}"
    return await act(request, call, done=done, then=then, refused=refused)


@router.post("/warehouses/{code}")
async def update_warehouse(
    request: Request, code: str, form: FormDep, operator: OperatorDep
) -> Response:
    body = given(
        name=form.get("name"), priority=form.get("priority"), active=_flag(form.get("active"))
    )
    call = operator.api.patch(_path(code), body)
    return await _change(
        request,
        operator,
        code,
        form,
        call=call,
        done=f"Saved warehouse {code}.",
        target="warehouse",
    )


@router.post("/warehouses/{code}/locations")
async def create_location(
    request: Request, code: str, form: FormDep, operator: OperatorDep
) -> Response:
    location = form.get("location_code")
    body = given(
        code=location,
        type=form.get("type"),
        parent_code=form.get("parent_code"),
        pickable=_flag(form.get("pickable")),
    )
    call = operator.api.post(f"{_path(code)}/locations", body, idempotency_key=form.idempotency_key)
    done = f"Created location {location} in {code}."
    return await _change(request, operator, code, form, call=call, done=done, target="location")


@router.post("/warehouses/{code}/locations/edit")
async def update_location(
    request: Request, code: str, form: FormDep, operator: OperatorDep
) -> Response:
    location = form.get("location") or ""
    body = given(pickable=_flag(form.get("pickable")), active=_flag(form.get("active")))
    call = operator.api.patch(f"{_path(code)}/locations/{quote(location, safe='')}", body)
    done = f"Saved location {location}."
    target = f"location:{location}"
    return await _change(request, operator, code, form, call=call, done=done, target=target)
