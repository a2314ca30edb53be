"""The console's pages, one router per page family (mounted under /console)."""

from __future__ import annotations

from fastapi import APIRouter

from console.pages import (
    access,
    inventory,
    inventory_item,
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
    transfers.router,
    returns.router,
    warehouses.router,
)
