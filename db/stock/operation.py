"""Running a stock operation: one transaction, an idempotency key, retries on
deadlock or serialization failure, and the first result replayed for a repeat.

    result = await run_operation(sessions, caller, "receive", command, ReceiveResult, body)

(`run_operations` runs several in one transaction, each under its own key: an
order's warehouse step, db/stock/steps.py.)

The key is claimed first (a row in idempotency_records): a concurrent twin with
the same key waits on that row, then replays the winner's result. `body(ctx)`
does the work and calls `ctx.record(result)`; it applies its stock change as late
as it can, so the hot stock rows stay locked for the shortest time (a pick must
apply first: its new allocation needs the id of the staging balance)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from pydantic import TypeAdapter
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import failures
from db.models import Item, Location, Lot, Serial, Warehouse
from db.stock.change import Place
from db.stock.lookups import Catalogue
from domain.errors import InvalidInput
from domain.stock import IdempotencyConflict, MovementRecord, MovementType
from observability.metrics import stock_operation

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock detected, serialization failure
MAX_ATTEMPTS = 6


@dataclass(frozen=True)
class Caller:
    """Who runs an operation: the tenant, an idempotency key, an actor for the ledger."""

    tenant_id: int
    idempotency_key: str
    actor: str

    def __post_init__(self) -> None:
        if not self.idempotency_key or len(self.idempotency_key) > 200:
            raise InvalidInput(
                "an idempotency key of 1-200 characters is required", field="Idempotency-Key"
            )


@dataclass
class OperationContext:
    session: AsyncSession
    caller: Caller
    operation: str
    request_hash: str
    catalogue: Catalogue
    _seq: int = 0
    recorded: bool = field(default=False)
    places: dict[int, Place] = field(default_factory=dict)  # by balance id

    @property
    def tenant_id(self) -> int:
        return self.caller.tenant_id

    async def record(self, result: Any, result_type: Any) -> None:
        """Store the result the key replays from now on."""
        payload = adapter(result_type).dump_python(result, mode="json")
        await self.session.execute(
            text(
                "UPDATE idempotency_records SET result = CAST(:r AS jsonb)"
                " WHERE tenant_id = :t AND key = :k"
            ),
            {"t": self.tenant_id, "k": self.caller.idempotency_key, "r": json.dumps(payload)},
        )
        self.recorded = True

    async def movement(
        self,
        type: MovementType,
        *,
        warehouse_id: int,
        item_id: int,
        quantity: int,
        from_location_id: int | None = None,
        to_location_id: int | None = None,
        lot_id: int | None = None,
        serial_id: int | None = None,
        reference_type: str = "manual",
        reference_id: str | None = None,
        reason: str | None = None,
    ) -> int:
        """Append one ledger row (quantity > 0; direction by from/to)."""
        self._seq += 1
        movement_id = await self.session.scalar(
            text(
                "INSERT INTO movements (tenant_id, type, warehouse_id, item_id, lot_id, serial_id,"
                " quantity, from_location_id, to_location_id, reference_type, reference_id,"
                " actor, reason, idempotency_key, seq) VALUES (:t, :type, :w, :i, :lot, :serial,"
                " :q, :src, :dst, :rt, :rid, :actor, :reason, :key, :seq) RETURNING id"
            ),
            {
                "t": self.tenant_id,
                "type": type.value,
                "w": warehouse_id,
                "i": item_id,
                "lot": lot_id,
                "serial": serial_id,
                "q": quantity,
                "src": from_location_id,
                "dst": to_location_id,
                "rt": reference_type,
                "rid": reference_id,
                "actor": self.caller.actor,
                "reason": reason,
                "key": self.caller.idempotency_key,
                "seq": self._seq,
            },
        )
        assert movement_id is not None
        return int(movement_id)

    async def book(
        self,
        type: MovementType,
        item: Item,
        quantity: int,
        *,
        warehouse: Warehouse,
        source: Location | None = None,
        target: Location | None = None,
        lot: Lot | None = None,
        serial: Serial | None = None,
        reference_type: str = "manual",
        reference_id: str | None = None,
        reason: str | None = None,
    ) -> MovementRecord:
        """Append a ledger row for catalogue objects and return it as a record."""
        movement_id = await self.movement(
            type,
            warehouse_id=warehouse.id,
            item_id=item.id,
            quantity=quantity,
            from_location_id=source.id if source else None,
            to_location_id=target.id if target else None,
            lot_id=lot.id if lot else None,
            serial_id=serial.id if serial else None,
            reference_type=reference_type,
            reference_id=reference_id,
            reason=reason,
        )
        return _record_of(movement_id, type, item, quantity, source, target, lot, serial)


@functools.cache
def adapter(type_: Any) -> TypeAdapter[Any]:
    """One TypeAdapter per type: building one generates a schema (milliseconds)."""
    return TypeAdapter(type_)


def _record_of(
    movement_id: int,
    type: MovementType,
    item: Item,
    quantity: int,
    source: Location | None,
    target: Location | None,
    lot: Lot | None,
    serial: Serial | None,
) -> MovementRecord:
    return MovementRecord(
        movement_id,
        type,
        item.sku,
        quantity,
        source.code if source else None,
        target.code if target else None,
        lot.lot_number if lot else None,
        serial.serial_number if serial else None,
    )


def request_hash(operation: str, command: Any, command_type: Any) -> str:
    payload = adapter(command_type).dump_json(command)
    return hashlib.sha256(operation.encode() + b"\0" + payload).hexdigest()


async def _claim(ctx: OperationContext) -> bool:
    """Take the key for this transaction; False when a committed record has it."""
    claimed = await ctx.session.execute(
        text(
            "INSERT INTO idempotency_records (tenant_id, key, operation, request_hash, result)"
            " VALUES (:t, :k, :o, :h, '{}') ON CONFLICT (tenant_id, key) DO NOTHING RETURNING 1"
        ),
        {
            "t": ctx.tenant_id,
            "k": ctx.caller.idempotency_key,
            "o": ctx.operation,
            "h": ctx.request_hash,
        },
    )
    return claimed.first() is not None


async def _replay(ctx: OperationContext, result_type: Any) -> Any:
    row = (
        await ctx.session.execute(
            text(
                "SELECT operation, request_hash, result FROM idempotency_records "
                "WHERE tenant_id = :t AND key = :k"
            ),
            {"t": ctx.tenant_id, "k": ctx.caller.idempotency_key},
        )
    ).one()
    return replay(ctx.caller, ctx.operation, ctx.request_hash, row._asdict(), result_type)


def replay(
    caller: Caller, operation: str, digest: str, record: dict[str, Any], result_type: Any
) -> Any:
    """The result a key's record replays, if it was made by the same request."""
    if (record["operation"], record["request_hash"]) != (operation, digest):
        raise IdempotencyConflict(
            f"idempotency key {caller.idempotency_key!r} was used for another request "
            f"({record['operation']}); use a new key",
            field="Idempotency-Key",
        )
    return replayed(record["result"], result_type)


def replayed(result: dict[str, Any], result_type: Any) -> Any:
    """A key's recorded result as a repeat gets it."""
    return adapter(result_type).validate_python({**result, "replayed": True})


async def recorded(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, result_type: type[T]
) -> T | None:
    """The stored result of a key, if an operation has committed one (callers that
    may re-plan a command use it to replay instead of running a changed command)."""
    async with sessions() as session:
        row = (
            await session.execute(
                text("SELECT result FROM idempotency_records WHERE tenant_id = :t AND key = :k"),
                {"t": caller.tenant_id, "k": caller.idempotency_key},
            )
        ).first()
    if row is None:
        return None
    result: T = replayed(row.result, result_type)
    return result


@dataclass(frozen=True, kw_only=True)
class Operation(Generic[T]):
    """One stock operation to run: who asks, its name, what, and the work (`body`)."""

    caller: Caller
    name: str
    command: Any
    result_type: type[T]
    body: Callable[[OperationContext], Awaitable[T]]
    # Refusals that leave this operation out of a step (its answer None, nothing
    # of it kept) instead of refusing the step: `run_passing` only.
    passes: tuple[type[Exception], ...] = ()


async def run_operation(
    sessions: async_sessionmaker[AsyncSession],
    caller: Caller,
    operation: str,
    command: Any,
    result_type: type[T],
    body: Callable[[OperationContext], Awaitable[T]],
) -> T:
    one = Operation(
        caller=caller, name=operation, command=command, result_type=result_type, body=body
    )
    (result,) = await run_operations(sessions, [one])
    return result


async def run_operations(
    sessions: async_sessionmaker[AsyncSession], operations: Sequence[Operation[T]]
) -> list[T]:
    """Operations in turn in one transaction, all kept or none: each claims its own
    key, or replays the result its key recorded (a step whose operations committed
    one by one before keeps them, and runs the rest)."""
    if any(o.passes for o in operations):
        raise ValueError("an operation that may pass runs through run_passing")
    return cast(list[T], await run_passing(sessions, operations))  # none passes: no None


async def run_passing(
    sessions: async_sessionmaker[AsyncSession], operations: Sequence[Operation[T]]
) -> list[T | None]:
    """`run_operations`, except that an operation refused with one of its `passes`
    is left out (None; a savepoint undoes what it began) and the rest go on."""
    with contextlib.ExitStack() as counted:
        for name, count in Counter(o.name for o in operations).items():
            counted.enter_context(stock_operation(name, count))
        return await _run(sessions, operations)


async def _run(
    sessions: async_sessionmaker[AsyncSession], operations: Sequence[Operation[T]]
) -> list[T | None]:
    digests = [request_hash(o.name, o.command, type(o.command)) for o in operations]
    label = "+".join(sorted({o.name for o in operations}))
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            async with sessions() as session, session.begin():
                results: list[T | None] = []
                for operation, digest in zip(operations, digests, strict=True):
                    result: T | None = await _one(session, operation, digest)
                    results.append(result)
                return results
        except DBAPIError as error:
            sqlstate = failures.sqlstate(error)
            # Safe to repeat: the same key replays if the lost attempt committed.
            retryable = sqlstate in RETRYABLE_SQLSTATES or error.connection_invalidated
            if not retryable or attempt == MAX_ATTEMPTS:
                raise
            log.info("%s: %s, retrying (attempt %d)", label, sqlstate, attempt)
            await asyncio.sleep(0.01 * 2**attempt)
    raise RuntimeError(f"{label}: gave up after {MAX_ATTEMPTS} attempts")


async def _one(session: AsyncSession, operation: Operation[T], digest: str) -> T | None:
    """One operation in the caller's transaction: its key claimed, else replayed;
    None when it passes."""
    if not operation.passes:
        return await _claimed(session, operation, digest)
    try:
        async with session.begin_nested():
            return await _claimed(session, operation, digest)
    except operation.passes:
        return None


async def _claimed(session: AsyncSession, operation: Operation[T], digest: str) -> T:
    caller = operation.caller
    ctx = OperationContext(
        session, caller, operation.name, digest, Catalogue(session, caller.tenant_id)
    )
    if not await _claim(ctx):
        return await _replay(ctx, operation.result_type)  # type: ignore[no-any-return]
    result = await operation.body(ctx)
    assert ctx.recorded, f"{operation.name} did not record its result"
    return result
