"""Purchase order rules: outstanding, the over-receipt tolerance, late lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.errors import InvalidInput
from domain.purchasing import (
    OverReceipt,
    PoLine,
    PoReceiptLine,
    check_expected_at,
    check_receipt,
    fully_received,
    late_lines,
    next_due,
    released_by_receipt,
)

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _line(no: int, ordered: int, received: int = 0, days: int = 1) -> PoLine:
    return PoLine(
        line_no=no,
        sku=f"SKU-{no}",
        ordered=ordered,
        received=received,
        expected_at=NOW + timedelta(days=days),
    )


def test_a_line_over_received_within_the_tolerance_has_nothing_outstanding() -> None:
    line = _line(1, 20, received=21)
    assert line.outstanding == 0
    assert released_by_receipt(_line(1, 20, received=18), 3) == 2


def test_the_tolerance_rounds_down_to_whole_base_units() -> None:
    assert _line(1, 20).receivable(Decimal("0.05")) == 21
    assert _line(1, 10).receivable(Decimal("0.05")) == 10  # 10.5 → 10
    assert _line(1, 10, received=4).receivable(Decimal("0")) == 6


def test_a_receipt_beyond_the_tolerance_names_every_line_that_exceeds_it() -> None:
    lines = [_line(1, 10), _line(2, 5), _line(3, 5)]
    receipt = [
        PoReceiptLine(line_no=1, quantity=11),
        PoReceiptLine(line_no=2, quantity=5),
        PoReceiptLine(line_no=3, quantity=6),
    ]
    with pytest.raises(OverReceipt) as refused:
        check_receipt(lines, receipt, Decimal("0"))
    assert "lines.0 (PO line 1" in refused.value.detail
    assert "lines.2 (PO line 3" in refused.value.detail
    assert "lines.1" not in refused.value.detail


def test_a_receipt_naming_a_line_twice_or_an_unknown_line_is_bad_input() -> None:
    lines = [_line(1, 10)]
    twice = [PoReceiptLine(line_no=1, quantity=1), PoReceiptLine(line_no=1, quantity=1)]
    with pytest.raises(InvalidInput):
        check_receipt(lines, twice, Decimal("0"))
    with pytest.raises(InvalidInput):
        check_receipt(lines, [PoReceiptLine(line_no=2, quantity=1)], Decimal("0"))


def test_the_next_due_date_and_late_lines_count_only_what_is_outstanding() -> None:
    lines = [_line(1, 10, received=10, days=-3), _line(2, 5, days=-1), _line(3, 5, days=2)]
    assert next_due(lines) == NOW - timedelta(days=1)
    assert [x.line_no for x in late_lines(lines, NOW)] == [2]
    assert not fully_received(lines)
    assert next_due([_line(1, 1, received=1)]) is None


def test_an_expected_date_needs_a_time_zone() -> None:
    with pytest.raises(InvalidInput):
        check_expected_at(datetime(2026, 12, 1), "lines.0.expected_at")
    check_expected_at(NOW, "lines.0.expected_at")
