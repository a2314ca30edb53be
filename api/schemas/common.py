"""Shared API types: display quantities, cursor pages."""

from __future__ import annotations

import base64
import functools
import json
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, Field, PlainSerializer, TypeAdapter

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
WarehouseCode = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._\-/]+$")]
Serial = Annotated[str, Field(min_length=1, max_length=128)]
Bounded = Field(max_digits=18, decimal_places=6)

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="pass as `cursor` for the next page")


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def decode_cursor(cursor: str | None, shape: Any) -> Any:
    """The value inside a cursor this API gave out, checked against `shape` (a type
    pydantic can validate, e.g. str, int or tuple[str, str])."""
    if cursor is None:
        return None
    try:
        return _adapter(shape).validate_python(json.loads(base64.urlsafe_b64decode(cursor)))
    except (ValueError, TypeError) as error:  # includes pydantic's ValidationError
        raise InvalidInput("cursor is not one this API gave out", field="cursor") from error


@functools.cache
def _adapter(shape: Any) -> TypeAdapter[Any]:
    return TypeAdapter(shape)


CursorId = Annotated[int, Field(ge=1, le=2**63 - 1)]


Limit = Annotated[int, Field(ge=1, le=500, description="page size")]
