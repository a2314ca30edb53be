"""Business errors. The API maps them once to problem+json, activities once to
non-retryable ApplicationErrors.

A message that names quantities keeps them apart (`amounts`), in base units: only
the edge that knows the items' display units can say "1.5 yd" (the API renders
them; anywhere else, e.g. in a log, they read as base-unit numbers)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# How an edge says a quantity: (sku, base units) -> text, e.g. "1.5 yd".
QuantityFormat = Callable[[str, int], str]


def base_units(sku: str, base: int) -> str:
    return str(base)


@dataclass(frozen=True, kw_only=True)
class Amount:
    """A quantity a message names: base units of an item."""

    sku: str
    base: int


@dataclass(frozen=True, kw_only=True)
class Wording:
    """A message whose `{q0}`, `{q1}`... are quantities, said when rendered."""

    template: str
    amounts: dict[str, Amount] = field(default_factory=dict)

    def render(self, quantity: QuantityFormat = base_units) -> str:
        def said(match: re.Match[str]) -> str:
            amount = self.amounts.get(match[1])
            return match[0] if amount is None else quantity(amount.sku, amount.base)

        return _SLOT.sub(said, self.template)

    def as_details(self) -> dict[str, Any]:
        """Plain data (it crosses Temporal as an ApplicationError's details)."""
        amounts = {k: {"sku": a.sku, "base": a.base} for k, a in self.amounts.items()}
        return {"template": self.template, "amounts": amounts}

    @classmethod
    def from_details(cls, details: Any) -> Wording | None:
        """The wording in an error's details, if they hold one."""
        try:
            amounts = {
                k: Amount(sku=str(v["sku"]), base=int(v["base"]))
                for k, v in details["amounts"].items()
            }
            return cls(template=str(details["template"]), amounts=amounts)
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


_SLOT = re.compile(r"\{(q\d+)\}")


class Amounts:
    """Collects the quantities of one message: `q(sku, base)` is its placeholder.

    q = Amounts()
    raise InvalidInput(f"{q(sku, 6)} asked, {q(sku, 5)} returnable", amounts=q)
    """

    def __init__(self) -> None:
        self.named: dict[str, Amount] = {}

    def __call__(self, sku: str, base: int) -> str:
        name = f"q{len(self.named)}"
        self.named[name] = Amount(sku=sku, base=base)
        return "{" + name + "}"


class DomainError(Exception):
    """Base of every business rule violation. `code` is a stable machine name."""

    code = "domain-error"
    status = 422

    def __init__(
        self, detail: str, *, field: str | None = None, amounts: Amounts | None = None
    ) -> None:
        self.wording = Wording(template=detail, amounts=dict(amounts.named) if amounts else {})
        self.detail = self.wording.render()
        super().__init__(self.detail)
        self.field = field

    @property
    def details(self) -> tuple[dict[str, Any], ...]:
        """Its quantities as plain data, for an error that carries details (a
        Temporal ApplicationError): none when it names none."""
        return (self.wording.as_details(),) if self.wording.amounts else ()


class NotFound(DomainError):
    code = "not-found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409


class InvalidInput(DomainError):
    code = "invalid-input"
    status = 422
