"""The console's pages, one router per page family (mounted under /console)."""

from __future__ import annotations

from fastapi import APIRouter

from console.pages import access, overview, returns, transfers

PAGES: tuple[APIRouter, ...] = (access.router, overview.router, transfers.router, returns.router)
