"""API key format: `oms_<key id>_<secret>`.

The key id (12 hex characters) is stored in clear to find the key; only a SHA-256
digest of the secret is stored. Keys are random with 240 bits of entropy, so a fast
digest is enough (as for GitHub or Stripe tokens); a slow password hash would only
slow every request down.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

PREFIX = "oms"
KEY_ID_LENGTH = 12


@dataclass(frozen=True)
class ParsedKey:
    key_id: str
    secret: str


@dataclass(frozen=True)
class NewKey:
    key_id: str
    plaintext: str
    secret_hash: str


def generate_key() -> NewKey:
    key_id = secrets.token_hex(KEY_ID_LENGTH // 2)
    secret = secrets.token_urlsafe(30)
    return NewKey(key_id, f"{PREFIX}_{key_id}_{secret}", hash_secret(secret))


def parse_key(plaintext: str) -> ParsedKey | None:
    """Split a presented key; None when it cannot be one of ours."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    key_id, secret = parts[1], parts[2]
    if len(key_id) != KEY_ID_LENGTH or not secret:
        return None
    return ParsedKey(key_id, secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), secret_hash)
