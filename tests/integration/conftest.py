"""Fixtures the webhook delivery tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.integration.webhook_helpers import Endpoints


@pytest.fixture
async def endpoints(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Endpoints]:
    """Endpoints a test adds, disabled after it (no later relay wakes them)."""
    made = Endpoints(sessions, [])
    yield made
    await made.disable_all()
