"""Shipping: the units a package is measured in and the countries an address may
name. Pure: the country list is the ISO 3166-1 package's, read-only."""

from __future__ import annotations

from enum import StrEnum

from iso3166 import countries_by_alpha2


class WeightUnit(StrEnum):
    KG = "kg"
    G = "g"
    LB = "lb"
    OZ = "oz"


class LengthUnit(StrEnum):
    CM = "cm"
    MM = "mm"
    IN = "in"


def is_country(code: str) -> bool:
    """`code` is an ISO 3166-1 alpha-2 country code (upper case, as assigned)."""
    return code in countries_by_alpha2
