"""Shipping contracts without Temporal: an old flat ship_to read as an address, the
tracking a shipment adds to its packages, and the country list."""

from contracts.orders import OrderInput
from contracts.shipping import (
    Address,
    PackageLineInput,
    PackageTracking,
    PackageView,
    legacy_address,
    shipment_tracking,
    with_tracking,
)
from domain.shipping import is_country


def _package(number: str, tracking: str | None = None) -> PackageView:
    return PackageView(
        package_number=number,
        weight=None,
        dimensions=None,
        lines=[PackageLineInput(line_id="1", quantity=1)],
        tracking_number=tracking,
    )


def test_a_flat_ship_to_of_an_order_in_flight_reads_as_an_address() -> None:
    flat = {"name": "Ada", "street": "Main St 1", "zip": "10115", "city": "Berlin", "country": "de"}
    assert legacy_address(flat) == Address(
        name="Ada", lines=["Main St 1"], city="Berlin", country="DE", postal_code="10115"
    )
    assert legacy_address({}) is None


def test_an_order_input_shows_its_validated_address_before_any_flat_one() -> None:
    address = Address(name="Ada", lines=["Main St 1"], city="Berlin", country="DE")
    order = OrderInput(
        tenant_id=1,
        order_number="SO-1",
        customer_id="C",
        currency="EUR",
        lines=[],
        priority=7,
        address=address,
        shipping_method="express",
    )
    shipping = order.shipping()
    assert (shipping.ship_to, shipping.priority, shipping.customer_id) == (address, 7, "C")
    assert shipping.shipping_method == "express"
    old = OrderInput(
        tenant_id=1, order_number="SO-2", customer_id="C", currency="EUR", lines=[], ship_to={}
    )
    assert old.shipping().ship_to is None


def test_tracking_given_at_shipment_goes_to_its_package_and_leads_the_shipment() -> None:
    packages = [_package("P1"), _package("P2", tracking="T2")]
    tracked = with_tracking(
        packages,
        [PackageTracking(package_number="P1", tracking_number="T1", label_url="https://l")],
    )
    assert [(p.tracking_number, p.label_url) for p in tracked] == [
        ("T1", "https://l"),
        ("T2", None),
    ]
    assert shipment_tracking(tracked, ["MASTER", "T2"]) == ["T1", "T2", "MASTER"]
    assert with_tracking(packages, []) == packages  # a ship without tracking changes nothing


def test_countries_are_iso_3166_alpha_2_codes() -> None:
    assert is_country("DE") and is_country("XK")
    assert not is_country("XX") and not is_country("de") and not is_country("DEU")
