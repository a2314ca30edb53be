"""Who may do what: the roles an API key carries."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """The role of an API key. One key, one tenant, one role."""

    ADMIN = "admin"
    OMS = "oms"  # shops and marketplaces: orders, returns
    WMS = "wms"  # warehouses: confirmations, receipts, moves, counts
    VIEWER = "viewer"  # read only

    @property
    def can_write(self) -> bool:
        return self is not Role.VIEWER


# Who may act where: the API's role checks and the console's buttons read these.
WAREHOUSE_ROLES = frozenset({Role.ADMIN, Role.WMS})  # stock, confirmations, alerts
ORDER_ROLES = frozenset({Role.ADMIN, Role.OMS})  # orders, holds, returns
ADMIN_ROLES = frozenset({Role.ADMIN})  # master data, keys, webhooks
