"""Query parameters as a filter form sends them: a field left blank (an empty
select, a cleared search box) arrives as `name=` and means "no filter"."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BeforeValidator

T = TypeVar("T")


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


Blank = BeforeValidator(_blank_is_none)
"""Put in a query parameter's Annotated: `Annotated[WarehouseCode | None, Blank]`."""

Filter = Annotated[T | None, Blank]
"""An optional filter whose blank value is None: `warehouse: Filter[WarehouseCode] = None`."""
