"""The inventory scan's conditions and words (domain/stock_alerts.py)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from contracts.orders import order_number_of, order_workflow_id
from domain.allocation import LotStatus
from domain.quantities import UnitOfMeasure
from domain.stock_alerts import (
    MESSAGE_LIMIT,
    AlertPlace,
    Drift,
    LevelFigures,
    LotFigures,
    ScanAlert,
    drift_message,
    scan_alert_place,
)

YARD = UnitOfMeasure(unit="yd", base_units_per_unit=4)
TODAY = date(2026, 12, 1)


def _level(available: int, *, incoming: int = 0, low: int = 0, reorder: int = 0) -> LevelFigures:
    return LevelFigures(
        sku="FABRIC",
        warehouse="WH1",
        uom=YARD,
        available=available,
        incoming=incoming,
        low_stock_threshold=low,
        reorder_point=reorder,
    )


@pytest.mark.parametrize(
    ("available", "low", "expected"),
    [(0, 10, False), (1, 10, True), (10, 10, True), (11, 10, False), (1, 0, False)],
)
def test_low_stock_holds_above_zero_up_to_a_set_threshold(
    available: int, low: int, expected: bool
) -> None:
    assert _level(available, low=low).holds(ScanAlert.LOW_STOCK) is expected


def test_out_of_stock_holds_at_zero_and_below_reorder_point_counts_incoming() -> None:
    assert _level(0).holds(ScanAlert.OUT_OF_STOCK)
    assert not _level(1).holds(ScanAlert.OUT_OF_STOCK)
    assert _level(10, incoming=10, reorder=20).holds(ScanAlert.BELOW_REORDER_POINT)
    assert not _level(10, incoming=11, reorder=20).holds(ScanAlert.BELOW_REORDER_POINT)
    assert not _level(0, reorder=0).holds(ScanAlert.BELOW_REORDER_POINT)


def test_an_inactive_item_or_warehouse_raises_nothing_and_says_why_its_alert_ends() -> None:
    level = LevelFigures(
        sku="X",
        warehouse="WH1",
        uom=YARD,
        available=0,
        incoming=0,
        low_stock_threshold=4,
        reorder_point=4,
        watched=False,
    )
    assert not any(level.holds(kind) for kind in (ScanAlert.OUT_OF_STOCK, ScanAlert.LOW_STOCK))
    assert "inactive" in level.resolution(ScanAlert.OUT_OF_STOCK)


def test_messages_speak_display_units_and_say_what_to_do() -> None:
    message = _level(6, incoming=2, reorder=40).message(ScanAlert.BELOW_REORDER_POINT)
    assert "1.5 yd available + 0.5 yd incoming = 2 yd, reorder point 10 yd" in message
    assert "Place a purchase order" in message
    assert "/v1/replenishment/suggestions?sku=FABRIC&warehouse=WH1" in message


def _lot(expires_on: date | None, status: LotStatus = LotStatus.AVAILABLE) -> LotFigures:
    return LotFigures(
        sku="MILK",
        warehouse="WH1",
        lot="L1",
        uom=YARD,
        on_hand=8,
        status=status,
        expires_on=expires_on,
        warning_days=7,
    )


def test_a_lot_is_expiring_within_its_warning_days_and_expired_from_its_date_on() -> None:
    assert _lot(TODAY + timedelta(days=7)).holds(ScanAlert.EXPIRING, TODAY)
    assert not _lot(TODAY + timedelta(days=8)).holds(ScanAlert.EXPIRING, TODAY)
    assert not _lot(None).holds(ScanAlert.EXPIRING, TODAY)
    assert _lot(TODAY).holds(ScanAlert.EXPIRED, TODAY)  # marked or not yet
    assert not _lot(TODAY).holds(ScanAlert.EXPIRING, TODAY)
    assert _lot(TODAY - timedelta(days=1), LotStatus.EXPIRED).holds(ScanAlert.EXPIRED, TODAY)
    held = _lot(TODAY + timedelta(days=1), LotStatus.HOLD)  # not for sale anyway
    assert not held.holds(ScanAlert.EXPIRING, TODAY)
    assert (
        held.resolution(ScanAlert.EXPIRING, TODAY) == "the lot's status is hold now: not for sale"
    )


def test_a_drift_message_names_every_place_that_fits_and_counts_the_rest() -> None:
    drifts = [
        Drift(what="incoming differs", where=f"warehouse 1 item {i}", expected=0, actual=i)
        for i in range(100)
    ]
    message = drift_message("incoming differs", drifts, "acme")
    assert len(message) <= MESSAGE_LIMIT
    assert "warehouse 1 item 0 (expected 0, found 0)" in message
    assert " more" in message and "oms reconcile --tenant acme" in message
    few = drift_message("incoming differs", drifts[:2], "acme")
    assert "item 1 (expected 0, found 1)" in few and " more" not in few


@pytest.mark.parametrize(
    ("key", "place"),
    [
        ("low_stock:MUG:WH1", AlertPlace(sku="MUG", warehouse="WH1")),
        ("expired:MI/LK:WH2:L/1", AlertPlace(sku="MI/LK", warehouse="WH2", lot="L/1")),
        ("expired:MILK:WH2", None),  # a lot alert names its lot
        ("reconciliation:on_hand", None),
        ("setup:staging:WH1", None),
    ],
)
def test_a_scan_alert_names_its_place_from_its_key(key: str, place: AlertPlace | None) -> None:
    assert scan_alert_place(key) == place


def test_an_order_workflow_id_names_its_order_and_no_other_id_does() -> None:
    assert order_number_of(order_workflow_id(12, "SO:1/2")) == "SO:1/2"
    assert order_number_of("transfer:12:TR-1") is None
    assert order_number_of("order:x:SO-1") is None
    assert order_number_of("inventory-scan-12") is None
