"""Tenant naming rules."""

from __future__ import annotations

import re

from domain.errors import InvalidInput

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def validate_tenant_slug(slug: str) -> str:
    """A tenant slug is 1-63 lowercase letters, digits and inner hyphens."""
    if not _SLUG.fullmatch(slug):
        raise InvalidInput(
            f"tenant {slug!r} must be 1-63 lowercase letters, digits or inner hyphens",
            field="tenant",
        )
    return slug
