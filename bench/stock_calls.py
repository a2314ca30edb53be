"""Latency of single stock calls through the project against raw psycopg booking the
same rows in one transaction (a round trip per statement), for `bench.stock_ops`:
receipts, a move, an adjustment. The raw side skips the idempotency record the
project keeps."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import psycopg
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.stock.on_hand import adjust, move, receive
from db.stock.operation import Caller
from domain.stock import AdjustStock, MoveStock, ReceiptLine, ReceiveStock


async def median_seconds(one: Callable[[int], Awaitable[None]], samples: int) -> float:
    """Median seconds of `one(n)` over `samples` calls, after 5 that warm up."""
    timings = []
    for n in range(samples + 5):
        started = time.perf_counter()
        await one(n)
        if n >= 5:
            timings.append(time.perf_counter() - started)
    return statistics.median(timings)


async def receipt_latency(
    sessions: async_sessionmaker[AsyncSession],
    dsn: str,
    tenant_id: int,
    skus: list[str],
    samples: int,
) -> tuple[float, float]:
    """Median seconds of one receipt of a unit of each of `skus` at WH1/A1: through
    the project, and raw (their rows exist: received once by setup_tenant)."""
    command = ReceiveStock("WH1", "A1", [ReceiptLine(sku, 1) for sku in skus])

    async def one(_: int) -> None:
        await receive(sessions, Caller(tenant_id, uuid.uuid4().hex, "bench"), command)

    ours = await median_seconds(one, samples)
    raw = []
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT b.id, b.warehouse_id, b.item_id, b.location_id FROM balances b"
            " JOIN items i ON i.id = b.item_id WHERE b.tenant_id = %s AND i.sku = ANY(%s)",
            (tenant_id, skus),
        ).fetchall()
        for _ in range(samples):
            started = time.perf_counter()
            with conn.transaction():
                for balance, warehouse, item, location in rows:
                    conn.execute(
                        "UPDATE balances SET on_hand = on_hand + 1 WHERE id = %s", (balance,)
                    )
                    conn.execute(
                        "UPDATE stock_levels SET on_hand = on_hand + 1"
                        " WHERE warehouse_id = %s AND item_id = %s",
                        (warehouse, item),
                    )
                    conn.execute(
                        "INSERT INTO movements (tenant_id, type, warehouse_id, item_id, quantity,"
                        " to_location_id, reference_type, actor, idempotency_key, seq)"
                        " VALUES (%s, 'receipt', %s, %s, 1, %s, 'receipt', 'bench', %s, 1)",
                        (tenant_id, warehouse, item, location, uuid.uuid4().hex),
                    )
            raw.append(time.perf_counter() - started)
    return ours, statistics.median(raw)


async def move_latency(
    sessions: async_sessionmaker[AsyncSession], dsn: str, tenant_id: int, samples: int
) -> tuple[float, float]:
    """Median seconds of moving a unit of R0 from WH1/A1 to A2 and back: through the
    project, and raw."""

    async def one(n: int) -> None:
        source, target = ("A1", "A2") if n % 2 == 0 else ("A2", "A1")
        command = MoveStock("WH1", source, target, "R0", 1)
        await move(sessions, Caller(tenant_id, uuid.uuid4().hex, "bench"), command)

    ours = await median_seconds(one, samples)
    raw = []
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT b.warehouse_id, b.item_id, s.id, t.id FROM balances b"
            " JOIN items i ON i.id = b.item_id"
            " JOIN locations s ON s.id = b.location_id AND s.code = 'A1'"
            " JOIN locations t ON t.warehouse_id = b.warehouse_id AND t.code = 'A2'"
            " WHERE b.tenant_id = %s AND i.sku = 'R0' AND b.lot_id IS NULL",
            (tenant_id,),
        ).fetchone()
        assert row is not None
        warehouse, item, a1, a2 = row
        for n in range(samples):
            source, target = (a1, a2) if n % 2 == 0 else (a2, a1)
            started = time.perf_counter()
            with conn.transaction():
                conn.execute(
                    "UPDATE stock_levels SET on_hand = on_hand"
                    " WHERE warehouse_id = %s AND item_id = %s",
                    (warehouse, item),
                )
                conn.execute(
                    "UPDATE balances SET on_hand = on_hand - 1 WHERE location_id = %s"
                    " AND item_id = %s AND lot_id IS NULL AND on_hand - 1 >= allocated",
                    (source, item),
                )
                conn.execute(
                    "UPDATE balances SET on_hand = on_hand + 1 WHERE location_id = %s"
                    " AND item_id = %s AND lot_id IS NULL",
                    (target, item),
                )
                conn.execute(
                    "INSERT INTO movements (tenant_id, type, warehouse_id, item_id, quantity,"
                    " from_location_id, to_location_id, reference_type, actor,"
                    " idempotency_key, seq) VALUES (%s, 'move', %s, %s, 1, %s, %s, 'manual',"
                    " 'bench', %s, 1)",
                    (tenant_id, warehouse, item, source, target, uuid.uuid4().hex),
                )
            raw.append(time.perf_counter() - started)
    return ours, statistics.median(raw)


async def adjust_latency(
    sessions: async_sessionmaker[AsyncSession], dsn: str, tenant_id: int, samples: int
) -> tuple[float, float]:
    """Median seconds of adjusting R1 at WH1/A1 down a unit and up again: through the
    project, and raw (the level and the balance under their guards, a ledger row)."""

    async def one(n: int) -> None:
        command = AdjustStock("WH1", "A1", "R1", -1 if n % 2 == 0 else 1, "bench recount")
        await adjust(sessions, Caller(tenant_id, uuid.uuid4().hex, "bench"), command)

    ours = await median_seconds(one, samples)
    raw = []
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT b.warehouse_id, b.item_id, b.location_id FROM balances b"
            " JOIN items i ON i.id = b.item_id JOIN locations l ON l.id = b.location_id"
            " WHERE b.tenant_id = %s AND i.sku = 'R1' AND l.code = 'A1' AND b.lot_id IS NULL",
            (tenant_id,),
        ).fetchone()
        assert row is not None
        warehouse, item, location = row
        for n in range(samples):
            delta = -1 if n % 2 == 0 else 1
            started = time.perf_counter()
            with conn.transaction():
                conn.execute(
                    "UPDATE stock_levels SET on_hand = on_hand + %s WHERE warehouse_id = %s"
                    " AND item_id = %s AND reserved + allocated + held <= on_hand + %s",
                    (delta, warehouse, item, delta),
                )
                conn.execute(
                    "UPDATE balances SET on_hand = on_hand + %s WHERE location_id = %s"
                    " AND item_id = %s AND lot_id IS NULL AND on_hand + %s >= allocated",
                    (delta, location, item, delta),
                )
                conn.execute(
                    "INSERT INTO movements (tenant_id, type, warehouse_id, item_id, quantity,"
                    " from_location_id, to_location_id, reference_type, actor, reason,"
                    " idempotency_key, seq) VALUES (%s, 'adjust', %s, %s, 1, %s, %s, 'manual',"
                    " 'bench', 'bench recount', %s, 1)",
                    (
                        tenant_id,
                        warehouse,
                        item,
                        location if delta < 0 else None,
                        None if delta < 0 else location,
                        uuid.uuid4().hex,
                    ),
                )
            raw.append(time.perf_counter() - started)
    return ours, statistics.median(raw)
