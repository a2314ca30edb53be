"""A page's filters from its query string. A GET form sends a field left blank (an
empty select, a cleared search box) as `name=`: blank is no filter (None), then the
API's own types check the rest."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator

from console.templating import humanize

T = TypeVar("T")


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


Blank = BeforeValidator(_blank_is_none)
"""Put in a query parameter's Annotated: `Annotated[WarehouseCode | None, Blank]`."""

Filter = Annotated[T | None, Blank]
"""An optional filter whose blank value is None: `warehouse: Filter[WarehouseCode] = None`."""


def choices(values: Iterable[StrEnum], *, any_label: str = "Any status") -> list[tuple[str, str]]:
    """A filter select's options: blank for any, then each value in words."""
    return [("", any_label)] + [(v.value, humanize(v.value)) for v in values]


def given(**filters: Any) -> dict[str, Any]:
    """The filters set (None dropped): what the API is asked and the form shows."""
    return {name: value for name, value in filters.items() if value is not None}
