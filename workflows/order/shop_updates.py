"""The order workflow's updates from the shop (cancel, holds, payment, extension),
its stock signal and its status query: each a check of the aggregate (validator)
and a change of it, published. A base of OrderWorkflow. Workflow code."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.orders import (
        AuthorizePaymentInput,
        CancelInput,
        ExtendReservationInput,
        ExtendReservationResult,
        HoldInput,
        HoldView,
        OrderView,
        ReleaseHoldInput,
        StockArrivedInput,
        StockPulledInput,
    )
    from workflows.order.plumbing import OrderPlumbing


class ShopUpdates(OrderPlumbing):
    @workflow.update
    async def cancel(self, data: CancelInput) -> OrderView:
        self.book.ask_cancel(data.reason)
        # Canceled, or already closing for another reason (expired, rejected).
        await workflow.wait_condition(lambda: self.book.status.is_final)
        return self.book.view()

    @cancel.validator
    def _check_cancel(self, data: CancelInput) -> None:
        self._check(self.book.check_cancel, data.reason)

    @workflow.update
    async def add_hold(self, data: HoldInput) -> HoldView:
        update = workflow.current_update_info()
        if self.steps.repeated() and update is not None:
            return self.book.find_hold(self.holds_by_step[update.id])
        hold = self.book.hold(data)
        if update is not None:
            self.holds_by_step[update.id] = hold.id
        await self._publish()
        self.steps.completed()
        return hold

    @add_hold.validator
    def _check_hold(self, data: HoldInput) -> None:
        self._check(self.book.check_hold, data)

    @workflow.update
    async def release_hold(self, data: ReleaseHoldInput) -> HoldView:
        if self.steps.repeated():
            return self.book.find_hold(data.hold_id)
        hold = self.book.release(data.hold_id)
        await self._publish()
        self.steps.completed()
        return hold

    @release_hold.validator
    def _check_release_hold(self, data: ReleaseHoldInput) -> None:
        self._check(self.book.check_release, data.hold_id)

    @workflow.update
    async def authorize_payment(self, data: AuthorizePaymentInput) -> OrderView:
        if self.steps.repeated():
            return self.book.view()
        self.book.authorized()
        await self._publish()
        self.steps.completed()
        return self.book.view()

    @authorize_payment.validator
    def _check_payment(self, data: AuthorizePaymentInput) -> None:
        self._check(lambda _: self.book.check_payment(), data)

    @workflow.update
    async def extend_reservation(self, data: ExtendReservationInput) -> ExtendReservationResult:
        if self.steps.repeated():
            return ExtendReservationResult(expires_at=self.book.view().reservation_expires_at or "")
        expires_at = self.book.extend(data.seconds, workflow.now())
        await self._publish()
        self.steps.completed()
        return ExtendReservationResult(expires_at=expires_at)

    @extend_reservation.validator
    def _check_extension(self, data: ExtendReservationInput) -> None:
        self._check(self.book.check_extension, data.seconds)

    @workflow.signal
    def stock_arrived(self, data: StockArrivedInput) -> None:
        self.book.stock_arrived(data.sku)

    @workflow.signal
    def stock_pulled(self, data: StockPulledInput) -> None:
        """A lot hold released some of its allocations: the waits that follow see
        the quantity pending again and reserve it anew (no patch: a new signal, and
        the loop already re-reserves what a short pick gave back)."""
        self.book.stock_pulled(data.allocation_ids)

    @workflow.query
    def status(self) -> OrderView:
        return self.book.view()
