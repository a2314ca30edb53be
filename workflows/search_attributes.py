"""Search attributes operators filter on in the Temporal UI (all Keyword).

The dev stack passes them to `temporal server start-dev`, the tests register them
on the time-skipping server, production registers them once with
`temporal operator search-attribute create` (see README)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey, SearchAttributePair, SearchAttributeUpdate

if TYPE_CHECKING:
    from contracts.orders import OrderInput
    from contracts.purchasing import PurchaseOrderInput
    from contracts.transfers import TransferInput
    from domain.orders import OrderStatus
    from domain.purchasing import PurchaseOrderStatus
    from domain.transfers import TransferStatus

TENANT_ID = SearchAttributeKey.for_keyword("TenantId")
ORDER_NUMBER = SearchAttributeKey.for_keyword("OrderNumber")
ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
RETURN_NUMBER = SearchAttributeKey.for_keyword("ReturnNumber")
RETURN_STATUS = SearchAttributeKey.for_keyword("ReturnStatus")
TRANSFER_NUMBER = SearchAttributeKey.for_keyword("TransferNumber")
TRANSFER_STATUS = SearchAttributeKey.for_keyword("TransferStatus")
WEBHOOK_ENDPOINT = SearchAttributeKey.for_keyword("WebhookEndpoint")
# The dev server's SQL visibility holds at most 10 Keyword attributes: a PO is found
# by its workflow id (`po-<tenant>-<number>`), its status by this one.
PURCHASE_ORDER_STATUS = SearchAttributeKey.for_keyword("PurchaseOrderStatus")
# ... so a recall's id, a number, is an Int attribute (`RecallId = 7` in the UI).
RECALL_ID = SearchAttributeKey.for_int("RecallId")

ALL = (
    TENANT_ID,
    ORDER_NUMBER,
    ORDER_STATUS,
    CUSTOMER_ID,
    RETURN_NUMBER,
    RETURN_STATUS,
    TRANSFER_NUMBER,
    TRANSFER_STATUS,
    WEBHOOK_ENDPOINT,
    PURCHASE_ORDER_STATUS,
    RECALL_ID,
)


def for_order(order: OrderInput, status: OrderStatus) -> list[SearchAttributeUpdate[Any]]:
    """An order's attributes: set at start by the API, upserted as its status moves."""
    return [
        TENANT_ID.value_set(str(order.tenant_id)),
        ORDER_NUMBER.value_set(order.order_number),
        ORDER_STATUS.value_set(status.value),
        CUSTOMER_ID.value_set(order.customer_id),
    ]


def for_transfer(
    transfer: TransferInput, status: TransferStatus
) -> list[SearchAttributeUpdate[Any]]:
    """A transfer's attributes: set at start by the API, upserted as its status moves."""
    return [
        TENANT_ID.value_set(str(transfer.tenant_id)),
        TRANSFER_NUMBER.value_set(transfer.transfer_number),
        TRANSFER_STATUS.value_set(status.value),
    ]


def pairs(updates: list[SearchAttributeUpdate[Any]]) -> list[SearchAttributePair[Any]]:
    """Updates as the pairs `start_workflow(search_attributes=...)` takes."""
    return [SearchAttributePair(update.key, update.value) for update in updates]


def changed(wanted: list[SearchAttributeUpdate[Any]]) -> list[SearchAttributeUpdate[Any]]:
    """Of `wanted`, what differs from the run's attributes now (workflow code only):
    each upsert is a history event and a visibility write, so only changes go."""
    known = workflow.info().typed_search_attributes
    return [update for update in wanted if known.get(update.key) != update.value]


def for_return(
    tenant_id: int, rma_number: str, order_number: str, status: str
) -> list[SearchAttributeUpdate[Any]]:
    return [
        TENANT_ID.value_set(str(tenant_id)),
        RETURN_NUMBER.value_set(rma_number),
        RETURN_STATUS.value_set(status),
        ORDER_NUMBER.value_set(order_number),
    ]


def for_webhook_endpoint(tenant_id: int, endpoint_id: int) -> list[SearchAttributeUpdate[Any]]:
    """An endpoint's delivery runs: set at start by the relay."""
    return [
        TENANT_ID.value_set(str(tenant_id)),
        WEBHOOK_ENDPOINT.value_set(str(endpoint_id)),
    ]


def for_purchase_order(
    order: PurchaseOrderInput, status: PurchaseOrderStatus
) -> list[SearchAttributeUpdate[Any]]:
    """A purchase order's attributes: set at start by the API, upserted as it moves."""
    return [
        TENANT_ID.value_set(str(order.tenant_id)),
        PURCHASE_ORDER_STATUS.value_set(status.value),
    ]


def for_recall(tenant_id: int, recall_id: int) -> list[SearchAttributeUpdate[Any]]:
    """A recall's attributes: set at start by the API (and by the run itself)."""
    return [TENANT_ID.value_set(str(tenant_id)), RECALL_ID.value_set(recall_id)]


def type_name(key: SearchAttributeKey[Any]) -> str:
    """The attribute's type as the Temporal CLI names it (`Keyword`, `Int`)."""
    return key.indexed_value_type.name.title()
