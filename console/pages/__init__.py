"""The console's pages, one router per page family (mounted under /console)."""

from __future__ import annotations

from fastapi import APIRouter

from console.pages import (
    access,
    alerts,
    backorders,
    inventory,
    inventory_item,
    movements,
    orders,
    overview,
    queue,
    returns,
    transfers,
    warehouses,
)

PAGES: tuple[APIRouter, ...] = (
    access.router,
    overview.router,
    inventory.router,
    inventory_item.router,
    orders.router,
    queue.router,
    backorders.router,
    transfers.router,
    returns.router,
    alerts.router,
    movements.router,
    warehouses.router,
)
