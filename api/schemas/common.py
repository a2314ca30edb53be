"""Shared API types: the strings and quantities every request is made of
(control characters refused, lengths bounded, decimals exact), cursor pages."""

from __future__ import annotations

import base64
import functools
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainSerializer,
    TypeAdapter,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from domain.errors import InvalidInput

# -- strings -----------------------------------------------------------------------

# C0 controls (NUL included: Postgres refuses it in text), DEL, and lone UTF-16
# surrogates (JSON can spell them, UTF-8 cannot encode them).
_LINE_REFUSED = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
# Multi-line text also lets tab, line feed and carriage return through.
_TEXT_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# The same rules for the OpenAPI document (surrogates cannot be written there).
_LINE_PATTERN = r"^[^\u0000-\u001f\u007f]*$"
_TEXT_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$"


def refuse_controls(value: str, *, multiline: bool = False) -> str:
    """`value` unchanged, or a validation error naming the first refused character."""
    found = (_TEXT_REFUSED if multiline else _LINE_REFUSED).search(value)
    if found is not None:
        raise PydanticCustomError(
            "control_character",
            "must not contain control characters (found {code} at position {position})",
            {"code": f"U+{ord(found.group()):04X}", "position": found.start()},
        )
    return value


@dataclass(frozen=True, kw_only=True)
class Printable:
    """Annotated metadata for a string of printable characters: bounded length, no
    control characters (tab and line breaks too unless `multiline`)."""

    max_length: int
    min_length: int = 1
    multiline: bool = False

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            functools.partial(refuse_controls, multiline=self.multiline),
            core_schema.str_schema(min_length=self.min_length, max_length=self.max_length),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = _TEXT_PATTERN if self.multiline else _LINE_PATTERN
        return json_schema


_CODE = r"^[A-Za-z0-9._\-/]+$"
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=_CODE)]
"""A business key chosen by the client: SKU, order, RMA or transfer number, location."""
WarehouseCode = Annotated[str, Field(min_length=1, max_length=32, pattern=_CODE)]
Identifier = Annotated[str, Printable(max_length=128)]
"""One line naming something outside the OMS: customer, serial, carrier, reference."""
Serial = Identifier
Name = Annotated[str, Printable(max_length=200)]
"""One line for people: an item's or a warehouse's name."""
Keyword = Annotated[str, Printable(max_length=64)]
"""A short single-line value: a unit, a timezone, a status or kind to filter on."""
Text = Annotated[str, Printable(max_length=500, multiline=True)]
"""Free text for people, line breaks allowed: reasons, resolutions, notes."""
Note = Annotated[str, Printable(max_length=500, min_length=0, multiline=True)]
"""Free text that may be empty."""
Cursor = Annotated[
    str, Printable(max_length=512), Field(description="`next_cursor` of the previous page")
]

# -- quantities ----------------------------------------------------------------------

# A quantity in the item's display unit: a JSON number, read exactly (the body is
# decoded with decimals, never floats; strings are accepted too).
Quantity = Annotated[
    Decimal,
    PlainSerializer(
        lambda v: float(v) if v % 1 else int(v), return_type=int | float, when_used="json"
    ),
    Field(examples=[12.5]),
]
Bounded = Field(max_digits=18, decimal_places=6)
PositiveQuantity = Annotated[Quantity, Field(gt=0), Bounded]
SignedQuantity = Annotated[Quantity, Bounded]
NonNegativeQuantity = Annotated[Quantity, Field(ge=0), Bounded]


def _plain(amount: Decimal) -> Decimal:
    """19.90 -> 19.9 and 100.0 -> 100: one spelling per amount, so a repeated request
    matches the first however the client wrote its numbers."""
    return amount.quantize(1) if amount == amount.to_integral_value() else amount.normalize()


Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6), AfterValidator(_plain)]

# -- pages ---------------------------------------------------------------------------

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="pass as `cursor` for the next page")


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def decode_cursor(cursor: str | None, shape: Any, field: str = "cursor") -> Any:
    """The value inside a cursor this API gave out, checked against `shape` (a type
    pydantic can validate, e.g. str, int or tuple[str, str]); `field` names the
    parameter it came in."""
    if cursor is None:
        return None
    try:
        return _adapter(shape).validate_python(json.loads(base64.urlsafe_b64decode(cursor)))
    except (ValueError, TypeError) as error:  # includes pydantic's ValidationError
        raise InvalidInput(f"{field}: not a cursor this API gave out", field=field) from error


@functools.cache
def _adapter(shape: Any) -> TypeAdapter[Any]:
    return TypeAdapter(shape)


RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]
"""A database row id (a bigint)."""
CursorId = RowId


Limit = Annotated[int, Field(ge=1, le=500, description="page size")]
