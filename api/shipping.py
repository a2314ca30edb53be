"""Between the API's shipping bodies and the contracts: an order's address and
wishes, a package's measures and tracking, both ways."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from api.schemas.orders import OrderCreate, ShipBody
from api.schemas.shipping import PackageMeasures
from contracts.orders import RequestView
from contracts.shipping import Address, Dimensions, PackageTracking, PackageView, Shipping, Weight
from domain.errors import InvalidInput


def wishes(body: OrderCreate) -> dict[str, Any]:
    """The OrderInput fields of the order's address and shipping wishes."""
    address = body.ship_to
    return {
        "address": Address(**address.model_dump()) if address is not None else None,
        "shipping_method": body.shipping_method,
        "requested_ship_at": _text(body.requested_ship_at),
        "requested_delivery_at": _text(body.requested_delivery_at),
    }


def _text(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at is not None else None


def public(ships: Shipping) -> dict[str, Any]:
    """The ShippingPublic fields (on an order and on each of its requests)."""
    return asdict(ships)


def measures(package: PackageMeasures) -> dict[str, Any]:
    """The PackageInput fields of a package's measures and tracking."""
    weight, size = package.weight, package.dimensions
    return {
        "gross_weight": None
        if weight is None
        else Weight(value=str(weight.value), unit=weight.unit),
        "size": None
        if size is None
        else Dimensions(
            length=str(size.length), width=str(size.width), height=str(size.height), unit=size.unit
        ),
        "tracking_number": package.tracking_number,
        "label_url": str(package.label_url) if package.label_url is not None else None,
    }


def measures_public(package: PackageView) -> dict[str, Any]:
    """The PackageMeasuresPublic fields; free text of packages packed before measures
    under its deprecated names."""
    return {
        "weight": asdict(package.gross_weight) if package.gross_weight else None,
        "dimensions": asdict(package.size) if package.size else None,
        "tracking_number": package.tracking_number,
        "label_url": package.label_url,
        "weight_text": package.weight,
        "dimensions_text": package.dimensions,
    }


def tracking(body: ShipBody, request: RequestView) -> list[PackageTracking]:
    """The tracking given per package at shipment; a package the request does not
    hold is a 422 naming it."""
    packed = {p.package_number for p in request.packages}
    given = []
    for n, package in enumerate(body.packages):
        if package.package_number not in packed:
            raise InvalidInput(
                f"request {request.id} has no package {package.package_number!r}",
                field=f"packages.{n}.package_number",
            )
        given.append(
            PackageTracking(
                package_number=package.package_number,
                tracking_number=package.tracking_number,
                label_url=str(package.label_url) if package.label_url is not None else None,
            )
        )
    return given
