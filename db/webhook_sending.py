"""The delivery activity's reads and writes: an endpoint's target, the head of each
subject's lane that is due, and each batch of attempts recorded in one transaction.

A lane is one endpoint's pending deliveries of one subject; only its lowest
sequence (the head) is ever sent, so a later event waits for an earlier one that is
retrying, and other subjects' lanes go on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import WebhookEndpoint
from db.webhooks import live_secrets
from domain.deliveries import AfterAttempt, Answer, DeliveryStatus


@dataclass(frozen=True, kw_only=True)
class Target:
    """Where an enabled endpoint receives, and the secrets that sign now."""

    url: str
    secrets: list[str]


async def load_target(session: AsyncSession, endpoint_id: int, at: datetime) -> Target | None:
    """The endpoint's target, None when it is gone or disabled. `at`: the wall
    clock; a previous secret signs alongside the current one until it expires."""
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or not endpoint.enabled:
        return None
    return Target(url=endpoint.url, secrets=live_secrets(endpoint, at))


@dataclass(frozen=True, kw_only=True)
class Due:
    delivery_id: int
    event_row: int  # events.id
    attempts: int
    next_attempt_at: datetime | None


# The head of each lane: its lowest pending sequence.
_HEADS = (
    "SELECT DISTINCT ON (subject_key) id, event_id, attempts, next_attempt_at"
    " FROM webhook_deliveries WHERE endpoint_id = :e AND status = 'pending'"
    " ORDER BY subject_key, sequence"
)


async def due_heads(
    session: AsyncSession, endpoint_id: int, now: datetime, limit: int
) -> list[Due]:
    """Lane heads due at `now` (or by the database's clock, when it is later),
    longest waiting first."""
    rows = await session.execute(
        text(
            f"SELECT id, event_id, attempts, next_attempt_at FROM ({_HEADS}) heads"
            " WHERE next_attempt_at <= greatest(CAST(:now AS timestamptz), now())"
            " ORDER BY next_attempt_at, id LIMIT :limit"
        ),
        {"e": endpoint_id, "now": now, "limit": limit},
    )
    return [
        Due(
            delivery_id=r.id,
            event_row=r.event_id,
            attempts=r.attempts,
            next_attempt_at=r.next_attempt_at,
        )
        for r in rows
    ]


async def next_due(session: AsyncSession, endpoint_id: int) -> datetime | None:
    """When the earliest lane head falls due; None when nothing is pending."""
    at: datetime | None = await session.scalar(
        text(f"SELECT min(next_attempt_at) FROM ({_HEADS}) heads"), {"e": endpoint_id}
    )
    return at


@dataclass(frozen=True, kw_only=True)
class Attempt:
    delivery_id: int
    due: Due  # the delivery as it was when taken
    at: datetime  # wall clock
    answer: Answer
    latency_ms: int
    after: AfterAttempt


async def record_attempts(session: AsyncSession, attempts: Sequence[Attempt]) -> set[int]:
    """In the caller's transaction: one webhook_attempts row per attempt, and each
    delivery's state after it, only if the delivery is still as it was taken (a
    redelivery or replay meanwhile gave it a fresh schedule; a run that timed out
    sent it already): the ids of the deliveries this changed."""
    if not attempts:
        return set()
    params = {
        "id": [a.delivery_id for a in attempts],
        "at": [a.at for a in attempts],
        "code": [a.answer.status_code for a in attempts],
        "error": [_clip(a.answer.error) for a in attempts],
        "ms": [a.latency_ms for a in attempts],
        "status": [a.after.status.value for a in attempts],
        "n": [a.after.attempts for a in attempts],
        "next": [a.after.next_attempt_at for a in attempts],
        "before": [a.due.attempts for a in attempts],
        "due": [a.due.next_attempt_at for a in attempts],
    }
    values = (
        "unnest(CAST(:id AS bigint[]), CAST(:at AS timestamptz[]), CAST(:code AS int[]),"
        " CAST(:error AS text[]), CAST(:ms AS int[]), CAST(:status AS text[]),"
        " CAST(:n AS int[]), CAST(:next AS timestamptz[]))"
        " AS v(id, at, code, error, ms, status, n, next)"
    )
    await session.execute(
        text(
            "INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, error,"
            f" latency_ms) SELECT id, at, code, error, ms FROM {values}"
        ),
        params,
    )
    changed = await session.scalars(
        text(
            "UPDATE webhook_deliveries d SET status = v.status, attempts = v.n,"
            " next_attempt_at = v.next, last_attempt_at = v.at, last_status_code = v.code,"
            " last_error = v.error, last_latency_ms = v.ms,"
            f" delivered_at = CASE WHEN v.status = '{DeliveryStatus.DELIVERED.value}'"
            " THEN v.at END"
            f" FROM {values}, unnest(CAST(:id AS bigint[]), CAST(:before AS int[]),"
            " CAST(:due AS timestamptz[])) AS taken(id, before, due)"
            " WHERE d.id = v.id AND taken.id = v.id AND d.status = 'pending'"
            " AND d.attempts = taken.before AND d.next_attempt_at IS NOT DISTINCT FROM taken.due"
            " RETURNING d.id"
        ),
        params,
    )
    return set(changed)


async def disable_endpoint(session: AsyncSession, endpoint_id: int, reason: str) -> bool:
    """Stop an enabled endpoint from receiving (PATCH enabled=true resumes it);
    whether it was enabled."""
    disabled = await session.scalar(
        text(
            "UPDATE webhook_endpoints SET enabled = false, disabled_reason = :r,"
            " updated_at = now() WHERE id = :e AND enabled RETURNING id"
        ),
        {"e": endpoint_id, "r": reason[:500]},
    )
    return disabled is not None


async def retry_backlog(session: AsyncSession) -> int:
    """Pending deliveries that failed at least once (all tenants)."""
    count = await session.scalar(
        text("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending' AND attempts > 0")
    )
    return int(count or 0)


def _clip(error: str | None) -> str | None:
    return None if error is None else error[:500]
