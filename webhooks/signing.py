"""Signing a delivery per the Standard Webhooks specification with the
`standardwebhooks` package; secrets are `whsec_` + base64 of 24 random bytes."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def signed_headers(
    event_id: str, body: bytes, signing_secrets: Sequence[str], at: datetime
) -> dict[str, str]:
    """The headers of one attempt: `webhook-id` (the event's id, the same on every
    attempt), `webhook-timestamp` (`at`, seconds) and one `v1,` signature per secret
    (during a rotation, the new and the old), space-separated."""
    if not signing_secrets:
        raise ValueError("at least one secret signs a delivery")
    payload = body.decode()
    return {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(
            Webhook(secret).sign(event_id, at, payload) for secret in signing_secrets
        ),
    }
