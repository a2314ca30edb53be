"""Business errors. The API maps them once to problem+json, activities once to
non-retryable ApplicationErrors."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every business rule violation. `code` is a stable machine name."""

    code = "domain-error"
    status = 422

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(DomainError):
    code = "not-found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409


class InvalidInput(DomainError):
    code = "invalid-input"
    status = 422
