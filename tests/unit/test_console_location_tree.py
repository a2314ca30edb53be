"""The warehouse page's location tree: locations nested under their parents."""

from __future__ import annotations

from typing import Any

from console.pages.warehouses import Branch, location_tree


def _loc(code: str, parent: str | None = None) -> dict[str, Any]:
    return {"code": code, "parent_code": parent}


def _shape(branches: list[Branch]) -> list[Any]:
    return [(b.location["code"], _shape(b.children)) for b in branches]


def test_locations_nest_under_their_parents_in_the_order_given() -> None:
    locations = [
        _loc("A-01", "ZONE-A"),
        _loc("STAGE"),
        _loc("ZONE-A"),
        _loc("A-01-1", "A-01"),
        _loc("A-02", "ZONE-A"),
    ]
    assert _shape(location_tree(locations)) == [
        ("STAGE", []),
        ("ZONE-A", [("A-01", [("A-01-1", [])]), ("A-02", [])]),
    ]


def test_a_location_whose_parent_is_not_listed_is_a_root() -> None:
    assert _shape(location_tree([_loc("B", "GONE"), _loc("C", "B")])) == [("B", [("C", [])])]
    assert location_tree([]) == []
