"""GTIN/EAN/UPC barcodes: the GS1 check digit."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.barcodes import GTIN_LENGTHS, check_barcodes, gtin_check_digit, gtin_problem
from domain.errors import InvalidInput

bodies = st.sampled_from(GTIN_LENGTHS).flatmap(
    lambda n: st.text(alphabet="0123456789", min_size=n - 1, max_size=n - 1)
)


def test_known_barcodes_are_accepted() -> None:
    # EAN-13 of a book, a UPC-A, an EAN-8 and a GTIN-14 (published examples)
    for code in ("9780306406157", "036000291452", "96385074", "10012345678902"):
        assert gtin_problem(code) is None, code


@given(bodies)
def test_a_code_with_its_check_digit_is_a_gtin(body: str) -> None:
    assert gtin_problem(body + str(gtin_check_digit(body))) is None


@given(bodies, st.integers(min_value=1, max_value=9))
def test_any_other_check_digit_is_refused(body: str, offset: int) -> None:
    wrong = (gtin_check_digit(body) + offset) % 10
    assert "check digit" in (gtin_problem(body + str(wrong)) or "")


@given(bodies, st.data())
def test_a_single_mistyped_digit_is_caught(body: str, data: st.DataObject) -> None:
    code = body + str(gtin_check_digit(body))
    at = data.draw(st.integers(min_value=0, max_value=len(code) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != code[at]]))
    assert gtin_problem(code[:at] + digit + code[at + 1 :]) is not None


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_lengths_other_than_8_12_13_14_are_refused(code: str) -> None:
    if len(code) not in GTIN_LENGTHS:
        assert "digits" in (gtin_problem(code) or "")


def test_letters_and_non_ascii_digits_are_refused() -> None:
    assert "digits only" in (gtin_problem("97803064061A7") or "")
    assert "digits only" in (gtin_problem("٩٧٨٠٣٠٦٤٠٦١٥٧") or "")


def test_a_barcode_listed_twice_is_refused_naming_its_position() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_barcodes(("96385074", "036000291452", "96385074"))
    assert refused.value.field == "barcodes.2"
