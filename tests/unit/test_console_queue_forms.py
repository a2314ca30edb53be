"""The fulfillment queue's forms as the API's bodies, and the pick form's rows."""

from decimal import Decimal
from typing import Any

from starlette.datastructures import FormData

from console.pages.queue_forms import pack_body, pick_body, pick_rows, ship_body, words
from console.session import Form


def _form(**fields: str) -> Form:
    return Form(FormData(list(fields.items())))


def test_scanned_serials_and_tracking_numbers_split_on_spaces_commas_and_new_lines() -> None:
    assert words(" SN1, SN2;SN3\nSN4 ") == ["SN1", "SN2", "SN3", "SN4"]
    assert words(None) == []


def test_the_pick_form_has_one_row_per_line_and_place_with_its_serials() -> None:
    def allocation(
        location: str, lot: str | None, serial: str | None, status: str
    ) -> dict[str, Any]:
        return {"location": location, "lot": lot, "serial": serial, "quantity": 1, "status": status}

    request = {
        "lines": [
            {
                "line_id": "1",
                "sku": "PHONE",
                "allocations": [
                    allocation("A1", None, "SN1", "allocated"),
                    allocation("A1", None, "SN2", "allocated"),
                    allocation("A2", None, "SN3", "allocated"),
                    allocation("A1", None, "SN9", "released"),
                ],
            }
        ]
    }
    rows = pick_rows(request)
    assert [(r["location"], r["quantity"], r["serials"]) for r in rows] == [
        ("A1", Decimal(2), ["SN1", "SN2"]),
        ("A2", Decimal(1), ["SN3"]),
    ]


def test_a_blank_pick_row_is_nothing_found_and_blank_fields_are_left_out() -> None:
    body = pick_body(
        _form(
            **{
                "pick-0-line": "1",
                "pick-0-quantity": "2",
                "pick-0-location": "A1",
                "pick-0-serials": "SN1 SN2",
                "pick-1-line": "2",
            }
        )
    )
    assert body == {
        "lines": [
            {
                "line_id": "1",
                "quantity": "2",
                "location": "A1",
                "lot": None,
                "serials": ["SN1", "SN2"],
            },
            {"line_id": "2", "quantity": "0", "location": None, "lot": None, "serials": []},
        ]
    }


def test_a_package_without_weight_or_dimensions_sends_none_of_them() -> None:
    body = pack_body(
        _form(
            package_number="P1",
            weight_unit="kg",
            dimensions_unit="cm",
            **{"pack-0-line": "1", "pack-0-quantity": "2", "pack-1-line": "2"},
        )
    )
    assert body == {
        "packages": [
            {
                "package_number": "P1",
                "tracking_number": None,
                "weight": None,
                "dimensions": None,
                "lines": [{"line_id": "1", "quantity": "2"}],
            }
        ]
    }
    measured = pack_body(
        _form(
            package_number="P1",
            weight_value="1.5",
            weight_unit="kg",
            length="30",
            dimensions_unit="cm",
            **{"pack-0-line": "1", "pack-0-quantity": "2"},
        )
    )["packages"][0]
    assert measured["weight"] == {"value": "1.5", "unit": "kg"}
    # a partial size goes to the API as typed: it names the missing fields
    assert measured["dimensions"] == {"length": "30", "width": None, "height": None, "unit": "cm"}


def test_the_ship_form_sends_carrier_service_level_and_tracking_numbers() -> None:
    body = ship_body(_form(carrier="DHL", tracking_numbers="T1, T2"))
    assert body == {"carrier": "DHL", "service_level": None, "tracking_numbers": ["T1", "T2"]}
