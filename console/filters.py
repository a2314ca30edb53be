"""A page's filters from its query string. A GET form sends an empty input as `name=`:
an empty filter is no filter (None), then the API's own types check the rest."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator

from api.schemas.common import Code, Identifier, Keyword, WarehouseCode
from domain.stock import MovementType


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


Blank = BeforeValidator(_blank_is_none)

SkuFilter = Annotated[Code | None, Blank]
WarehouseFilter = Annotated[WarehouseCode | None, Blank]
IdentifierFilter = Annotated[Identifier | None, Blank]
KeywordFilter = Annotated[Keyword | None, Blank]
MovementTypeFilter = Annotated[MovementType | None, Blank]


def given(**filters: Any) -> dict[str, Any]:
    """The filters set (None dropped): what the API is asked and the form shows."""
    return {name: value for name, value in filters.items() if value is not None}
