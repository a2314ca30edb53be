"""Shipping bodies: the address an order ships to, and a package's measures and
tracking (measured in the units they were given in)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    UrlConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from api.schemas.common import Identifier, Keyword, Name, PositiveQuantity, Printable, Quantity
from domain.shipping import LengthUnit, WeightUnit, is_country


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _known_country(code: str) -> str:
    if not is_country(code):
        raise PydanticCustomError(
            "unknown_country", "{code} is not an ISO 3166-1 alpha-2 country code", {"code": code}
        )
    return code


CountryCode = Annotated[
    str,
    Field(pattern="^[A-Z]{2}$", examples=["DE", "US"], description="ISO 3166-1 alpha-2"),
    AfterValidator(_known_country),
]
AddressLine = Annotated[str, Printable(max_length=200)]


class AddressBody(_Body):
    name: Name
    company: Name | None = None
    lines: list[AddressLine] = Field(min_length=1, max_length=3, description="street lines")
    city: Name
    region: Name | None = Field(None, description="state, province or county, where used")
    postal_code: Annotated[str, Printable(min_length=2, max_length=12)] | None = Field(
        None, description="required by most countries' carriers; some countries have none"
    )
    country: CountryCode
    phone: Annotated[str, Field(pattern=r"^\+?[0-9][0-9 ()./-]{2,31}$")] | None = None
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = (
        None
    )


class AddressPublic(BaseModel):
    name: str
    company: str | None
    lines: list[str]
    city: str
    region: str | None
    postal_code: str | None
    country: str = Field(
        description="ISO 3166-1 alpha-2 (an order placed before addresses "
        "were validated shows what it was given)"
    )
    phone: str | None
    email: str | None


class WeightBody(_Body):
    value: PositiveQuantity
    unit: WeightUnit


class DimensionsBody(_Body):
    length: PositiveQuantity
    width: PositiveQuantity
    height: PositiveQuantity
    unit: LengthUnit


class WeightPublic(BaseModel):
    value: Quantity
    unit: WeightUnit


class DimensionsPublic(BaseModel):
    length: Quantity
    width: Quantity
    height: Quantity
    unit: LengthUnit


LabelUrl = Annotated[HttpUrl, UrlConstraints(max_length=2048, allowed_schemes=["http", "https"])]


class PackageTrackingBody(_Body):
    package_number: Keyword
    tracking_number: Identifier | None = None
    label_url: LabelUrl | None = None


_EXAMPLES = {
    "weight": '{"value": 2.5, "unit": "kg"}',
    "dimensions": '{"length": 40, "width": 30, "height": 20, "unit": "cm"}',
}


class PackageMeasures(_Body):
    """A package's measures and tracking in the pack body."""

    weight: WeightBody | None = Field(None, examples=[{"value": 2.5, "unit": "kg"}])
    dimensions: DimensionsBody | None = Field(
        None, examples=[{"length": 40, "width": 30, "height": 20, "unit": "cm"}]
    )
    tracking_number: Identifier | None = None
    label_url: LabelUrl | None = None

    @field_validator("weight", "dimensions", mode="before")
    @classmethod
    def _not_free_text(cls, value: Any, info: ValidationInfo) -> Any:
        # Free text ("2 kg", "30x20x10") was accepted before: say what replaced it.
        if isinstance(value, str):
            raise PydanticCustomError(
                "measure_not_object",
                "must be an object with numbers and a unit, e.g. {example}; free text is "
                "no longer accepted",
                {"example": _EXAMPLES[info.field_name or "weight"]},
            )
        return value


class PackageMeasuresPublic(BaseModel):
    weight: WeightPublic | None
    dimensions: DimensionsPublic | None
    tracking_number: str | None
    label_url: str | None
    weight_text: str | None = Field(
        None, description="deprecated: free-text weight of a package packed before measures"
    )
    dimensions_text: str | None = Field(
        None, description="deprecated: free-text dimensions of a package packed before measures"
    )
