"""WebhookDeliveryWorkflow: one per webhook endpoint (id `webhook-endpoint-<id>`),
started or woken by the relay (signal-with-start `wake`) when deliveries are queued.

It sends what is due (an activity), then waits on a durable timer until the next
retry falls due, or less when woken; it ends when nothing is pending (the relay
starts it again) and continues as new before its history grows long."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.webhooks import WebhookActivities
    from contracts.events import (
        DeliverDueInput,
        DeliverDueResult,
        EndpointDeliveryInput,
        EndpointDeliveryResult,
    )
    from workflows import retry_policies
    from workflows.continuation import history_is_long


@workflow.defn
class WebhookDeliveryWorkflow:
    def __init__(self) -> None:
        self._woken = False

    @workflow.signal
    def wake(self) -> None:
        """New deliveries are queued for this endpoint: send what is due now."""
        self._woken = True

    @workflow.run
    async def run(self, data: EndpointDeliveryInput) -> EndpointDeliveryResult:
        delivered = failed = 0
        while True:
            self._woken = False
            sent = await self._deliver_due(data)
            delivered += sent.delivered
            failed += sent.failed
            if sent.next_due is None and not self._woken:
                return EndpointDeliveryResult(delivered=delivered, failed=failed)
            if sent.next_due is not None:
                await self._wait(sent.next_due - workflow.now())
            if history_is_long(data.history_limit) and workflow.all_handlers_finished():
                # the next run starts by sending what is due: no wake is lost
                workflow.continue_as_new(data)

    async def _deliver_due(self, data: EndpointDeliveryInput) -> DeliverDueResult:
        return await workflow.execute_activity_method(
            WebhookActivities.deliver_due,
            DeliverDueInput(
                tenant_id=data.tenant_id, endpoint_id=data.endpoint_id, now=workflow.now()
            ),
            start_to_close_timeout=retry_policies.DELIVERY_TIMEOUT,
            heartbeat_timeout=retry_policies.DELIVERY_HEARTBEAT_TIMEOUT,
            retry_policy=retry_policies.DATABASE,
        )

    async def _wait(self, wait: timedelta) -> None:
        """Until the next retry is due, or a wake (new deliveries) comes first."""
        if self._woken or wait <= timedelta(0):
            return
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(lambda: self._woken, timeout=wait)
