"""Which step a transfer takes now, which it refuses for good, and which comes early
(what enables it is under way: the API asks again): domain.transfers.check_step."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.stock import InvalidTransition
from domain.transfers import NotYet, TransferStatus, TransferStep, check_step

S = TransferStatus
SHIPPED = [S.IN_TRANSIT, S.PARTIALLY_RECEIVED, S.COMPLETED]


def _verdict(
    step: TransferStep, status: TransferStatus, shipping: bool = False, canceling: bool = False
) -> str:
    try:
        check_step(step, "TR-1", status, shipping=shipping, canceling=canceling)
    except NotYet:
        return "early"
    except InvalidTransition:
        return "refused"
    return "ok"


def test_a_reserved_transfer_ships_and_a_reserving_one_ships_soon() -> None:
    assert _verdict(TransferStep.SHIP, S.RESERVED) == "ok"
    assert _verdict(TransferStep.SHIP, S.REQUESTED) == "early"
    assert _verdict(TransferStep.SHIP, S.RESERVED, shipping=True) == "early"


@pytest.mark.parametrize("status", [*SHIPPED, S.CANCELED, S.REJECTED])
def test_a_ship_after_shipping_or_closing_is_refused_for_good(status: TransferStatus) -> None:
    assert _verdict(TransferStep.SHIP, status) == "refused"


def test_a_ship_while_canceling_is_refused_for_good() -> None:
    assert _verdict(TransferStep.SHIP, S.REQUESTED, canceling=True) == "refused"
    assert _verdict(TransferStep.SHIP, S.RESERVED, canceling=True) == "refused"


def test_the_messages_say_why() -> None:
    with pytest.raises(NotYet, match="TR-1 is still reserving its stock"):
        check_step(TransferStep.SHIP, "TR-1", S.REQUESTED)
    with pytest.raises(InvalidTransition, match="TR-1 has already shipped"):
        check_step(TransferStep.SHIP, "TR-1", S.IN_TRANSIT)
    with pytest.raises(InvalidTransition, match="TR-1 is canceled; it cannot ship"):
        check_step(TransferStep.SHIP, "TR-1", S.CANCELED)


def test_a_cancel_before_shipping_applies_and_waits_for_a_shipment_under_way() -> None:
    assert _verdict(TransferStep.CANCEL, S.REQUESTED) == "ok"
    assert _verdict(TransferStep.CANCEL, S.RESERVED) == "ok"
    assert _verdict(TransferStep.CANCEL, S.RESERVED, shipping=True) == "early"
    assert _verdict(TransferStep.CANCEL, S.RESERVED, canceling=True) == "refused"
    for status in [*SHIPPED, S.CANCELED, S.REJECTED]:
        assert _verdict(TransferStep.CANCEL, status) == "refused"


def test_a_receipt_applies_in_transit_and_waits_for_a_shipment_under_way() -> None:
    assert _verdict(TransferStep.RECEIVE, S.IN_TRANSIT) == "ok"
    assert _verdict(TransferStep.RECEIVE, S.PARTIALLY_RECEIVED, shipping=True) == "ok"
    assert _verdict(TransferStep.RECEIVE, S.RESERVED, shipping=True) == "early"
    # not shipping: it may never ship (receiving before shipping is refused)
    assert _verdict(TransferStep.RECEIVE, S.RESERVED) == "refused"
    assert _verdict(TransferStep.RECEIVE, S.RESERVED, shipping=True, canceling=True) == "refused"
    for status in [S.REQUESTED, S.COMPLETED, S.CANCELED, S.REJECTED]:
        assert _verdict(TransferStep.RECEIVE, status) == "refused"


@given(
    st.sampled_from(TransferStep),
    st.sampled_from(TransferStatus),
    st.booleans(),
    st.booleans(),
)
def test_a_closed_transfer_never_makes_a_step_wait(
    step: TransferStep, status: TransferStatus, shipping: bool, canceling: bool
) -> None:
    """Only a step whose enabler is under way waits: never one on a closed transfer."""
    verdict = _verdict(step, status, shipping, canceling)
    if status.is_final:
        assert verdict == "refused"
    if verdict == "early":
        assert status is S.REQUESTED or shipping
