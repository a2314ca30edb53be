"""Shared API types: display quantities, cursor pages."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, Field, PlainSerializer

from domain.errors import InvalidInput

# A quantity in the item's display unit: a JSON number (strings are accepted too).
Quantity = Annotated[
    Decimal,
    PlainSerializer(
        lambda v: float(v) if v % 1 else int(v), return_type=int | float, when_used="json"
    ),
    Field(examples=[12.5]),
]
PositiveQuantity = Annotated[Quantity, Field(gt=0, max_digits=18, decimal_places=6)]
SignedQuantity = Annotated[Quantity, Field(max_digits=18, decimal_places=6)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-/]+$")]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="pass as `cursor` for the next page")


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def decode_cursor(cursor: str | None) -> Any:
    if cursor is None:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError as error:
        raise InvalidInput("cursor is not one this API gave out", field="cursor") from error


Limit = Annotated[int, Field(ge=1, le=500, description="page size")]
