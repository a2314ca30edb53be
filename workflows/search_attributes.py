"""Search attributes operators filter on in the Temporal UI (all Keyword).

The dev stack passes them to `temporal server start-dev`, the tests register them
on the time-skipping server, production registers them once with
`temporal operator search-attribute create` (see README)."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

TENANT_ID = SearchAttributeKey.for_keyword("TenantId")
ORDER_NUMBER = SearchAttributeKey.for_keyword("OrderNumber")
ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
RETURN_NUMBER = SearchAttributeKey.for_keyword("ReturnNumber")
RETURN_STATUS = SearchAttributeKey.for_keyword("ReturnStatus")
TRANSFER_NUMBER = SearchAttributeKey.for_keyword("TransferNumber")
TRANSFER_STATUS = SearchAttributeKey.for_keyword("TransferStatus")

ALL = (
    TENANT_ID,
    ORDER_NUMBER,
    ORDER_STATUS,
    CUSTOMER_ID,
    RETURN_NUMBER,
    RETURN_STATUS,
    TRANSFER_NUMBER,
    TRANSFER_STATUS,
)
