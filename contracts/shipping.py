"""What the warehouse needs to ship: the address, the order's shipping wishes, and
each package's measures and tracking. Old histories lack every field added here:
each has a default, so they still decode."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from domain.shipping import LengthUnit, WeightUnit


@dataclass(frozen=True, kw_only=True)
class Address:
    name: str
    lines: list[str]  # 1 to 3 street lines
    city: str
    country: str  # ISO 3166-1 alpha-2
    company: str | None = None
    region: str | None = None  # state, province, county
    postal_code: str | None = None
    phone: str | None = None
    email: str | None = None


# Orders placed before addresses were validated carried a flat map of strings;
# these are the keys it is read by (the first one present wins).
_LEGACY_LINES = ("line1", "line2", "line3", "address", "address1", "address2", "street")
_LEGACY_FIELDS = {
    "company": ("company",),
    "region": ("region", "state", "province"),
    "postal_code": ("postal_code", "zip", "postcode"),
    "phone": ("phone",),
    "email": ("email",),
}


def legacy_address(flat: dict[str, str]) -> Address | None:
    """A flat `ship_to` map of an order placed before addresses were validated, read
    as an address as far as its keys allow (None when it was empty)."""
    if not flat:
        return None

    def first(*keys: str) -> str | None:
        return next((flat[k] for k in keys if flat.get(k)), None)

    return Address(
        name=flat.get("name", ""),
        lines=[flat[k] for k in _LEGACY_LINES if flat.get(k)],
        city=flat.get("city", ""),
        country=flat.get("country", "").upper(),
        **{name: first(*keys) for name, keys in _LEGACY_FIELDS.items()},
    )


@dataclass(frozen=True, kw_only=True)
class Shipping:
    """What the warehouse needs to ship an order: on the order and on each of its
    fulfillment requests. Times are RFC 3339."""

    customer_id: str
    priority: int  # lower goes first
    ship_to: Address | None = None
    shipping_method: str | None = None
    requested_ship_at: str | None = None
    requested_delivery_at: str | None = None


@dataclass(frozen=True, kw_only=True)
class Weight:
    value: str  # decimal > 0, as text
    unit: WeightUnit


@dataclass(frozen=True, kw_only=True)
class Dimensions:
    length: str  # decimals > 0, as text
    width: str
    height: str
    unit: LengthUnit


@dataclass(frozen=True, kw_only=True)
class PackageTracking:
    """A package's tracking, given when it ships (the carrier's label is made then)."""

    package_number: str
    tracking_number: str | None = None
    label_url: str | None = None


@dataclass(frozen=True, kw_only=True)
class PackageLineInput:
    line_id: str
    quantity: int


@dataclass(frozen=True, kw_only=True)
class PackageInput:
    package_number: str
    # Free text, refused by the API since packages carry measures: only histories
    # recorded before hold it.
    weight: str | None = None
    dimensions: str | None = None
    lines: list[PackageLineInput] = field(default_factory=list)
    gross_weight: Weight | None = None
    size: Dimensions | None = None
    tracking_number: str | None = None
    label_url: str | None = None


@dataclass(kw_only=True)
class PackageView:
    package_number: str
    weight: str | None  # free text of packages packed before measures (see PackageInput)
    dimensions: str | None
    lines: list[PackageLineInput]
    gross_weight: Weight | None = None
    size: Dimensions | None = None
    tracking_number: str | None = None
    label_url: str | None = None


def packed(package: PackageInput) -> PackageView:
    return PackageView(
        package_number=package.package_number,
        weight=package.weight,
        dimensions=package.dimensions,
        lines=list(package.lines),
        gross_weight=package.gross_weight,
        size=package.size,
        tracking_number=package.tracking_number,
        label_url=package.label_url,
    )


def with_tracking(packages: list[PackageView], given: list[PackageTracking]) -> list[PackageView]:
    """The packages with the tracking given at shipment (a package not named keeps
    what it was packed with)."""
    by_number = {t.package_number: t for t in given}
    tracked = []
    for package in packages:
        t = by_number.get(package.package_number)
        if t is not None:
            package = replace(
                package,
                tracking_number=t.tracking_number or package.tracking_number,
                label_url=t.label_url or package.label_url,
            )
        tracked.append(package)
    return tracked


def shipment_tracking(packages: list[PackageView], given: list[str]) -> list[str]:
    """A shipment's tracking numbers: its packages' (in package order), then those
    given for the whole shipment that no package carries."""
    numbers = [p.tracking_number for p in packages if p.tracking_number]
    return numbers + [n for n in given if n not in numbers]
