"""The fulfillment steps' forms as the API's bodies (PickBody, PackBody, ShipBody).

Repeated rows are named `<form>-<n>-<field>` (pick-0-quantity, pack-1-line), numbered
from 0. Values go to the API as typed: it validates them (a quantity that is not a
number is its 422, naming the field), so no rule is copied here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from console.session import Form
from domain.orders import AllocationStatus

_LIST_SEPARATORS = re.compile(r"[\s,;]+")


def words(value: str | None) -> list[str]:
    """Serials or tracking numbers as typed or scanned: one per line, or separated by
    spaces, commas or semicolons."""
    return [w for w in _LIST_SEPARATORS.split(value or "") if w]


def _rows(form: Form, prefix: str) -> Iterator[tuple[str, Form, int]]:
    """(line id, form, n) of each row `prefix-n-line` present in the form."""
    n = 0
    while (line := form.get(f"{prefix}-{n}-line")) is not None:
        yield line, form, n
        n += 1


def pick_body(form: Form) -> dict[str, Any]:
    """One entry per row: what was found of one line at a location (and lot). A row
    left blank counts as nothing found there (a short pick, as the API says)."""
    lines = []
    for line, f, n in _rows(form, "pick"):
        lines.append(
            {
                "line_id": line,
                "quantity": f.get(f"pick-{n}-quantity") or "0",
                "location": f.get(f"pick-{n}-location"),
                "lot": f.get(f"pick-{n}-lot"),
                "serials": words(f.get(f"pick-{n}-serials")),
            }
        )
    return {"lines": lines}


def pack_body(form: Form) -> dict[str, Any]:
    """One package with the rows that have a quantity."""
    weight = form.get("weight_value")
    size = [form.get(name) for name in ("length", "width", "height")]
    package: dict[str, Any] = {
        "package_number": form.get("package_number"),
        "tracking_number": form.get("tracking_number"),
        "weight": {"value": weight, "unit": form.get("weight_unit")} if weight else None,
        "dimensions": None,
        "lines": [
            {"line_id": line, "quantity": quantity}
            for line, f, n in _rows(form, "pack")
            if (quantity := f.get(f"pack-{n}-quantity")) is not None
        ],
    }
    if any(size):
        length, width, height = size
        package["dimensions"] = {
            "length": length,
            "width": width,
            "height": height,
            "unit": form.get("dimensions_unit"),
        }
    return {"packages": [package]}


def ship_body(form: Form) -> dict[str, Any]:
    return {
        "carrier": form.get("carrier"),
        "service_level": form.get("service_level"),
        "tracking_numbers": words(form.get("tracking_numbers")),
    }


def pick_rows(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The pick form's rows: one per line and place (location and lot) it is allocated
    at, with the allocated quantity and serials."""
    rows: dict[tuple[str, str, str | None], dict[str, Any]] = {}
    for line in request["lines"]:
        for a in line["allocations"]:
            if a["status"] != AllocationStatus.ALLOCATED:
                continue
            row = rows.setdefault(
                (line["line_id"], a["location"], a["lot"]),
                {
                    "line_id": line["line_id"],
                    "sku": line["sku"],
                    "location": a["location"],
                    "lot": a["lot"],
                    "quantity": Decimal(0),
                    "serials": [],
                },
            )
            row["quantity"] += Decimal(str(a["quantity"]))
            if a["serial"]:
                row["serials"].append(a["serial"])
    return list(rows.values())


def pack_rows(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The pack form's rows: each line with what was picked of it."""
    return [
        {"line_id": x["line_id"], "sku": x["sku"], "quantity": x["picked"]}
        for x in request["lines"]
        if x["picked"]
    ]
