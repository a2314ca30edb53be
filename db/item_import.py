"""Creating many items in one transaction (an import): which of them clash with what
the tenant has, then a COPY per table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.items import barcode_owners, barcode_rows, item_values, supplier_rows
from domain.catalogue import ItemSpec
from domain.errors import Conflict, InvalidInput


async def existing_skus(session: AsyncSession, tenant_id: int, skus: Sequence[str]) -> set[str]:
    rows = await session.scalars(
        text("SELECT sku FROM items WHERE tenant_id = :t AND sku = ANY(:skus)"),
        {"t": tenant_id, "skus": list(skus)},
    )
    return set(rows)


async def taken_barcodes(
    session: AsyncSession, tenant_id: int, specs: Sequence[ItemSpec]
) -> dict[str, str]:
    """Barcode -> the existing item that has it, for the barcodes of these items."""
    codes = [code for spec in specs for code in spec.barcodes]
    return await barcode_owners(session, tenant_id, codes) if codes else {}


async def insert_items(session: AsyncSession, tenant_id: int, specs: Sequence[ItemSpec]) -> int:
    """Insert these new items with their suppliers and barcodes by COPY, in the
    caller's transaction; how many."""
    if not specs:
        return 0
    rows = [{"tenant_id": tenant_id, **item_values(spec)} for spec in specs]
    await _copy(session, "items", rows)
    created = await session.execute(
        text("SELECT sku, id FROM items WHERE tenant_id = :t AND sku = ANY(:skus)"),
        {"t": tenant_id, "skus": [spec.sku for spec in specs]},
    )
    ids: dict[str, int] = {sku: item_id for sku, item_id in created}
    await _copy(
        session,
        "item_suppliers",
        [r for s in specs for r in supplier_rows(tenant_id, ids[s.sku], s)],
    )
    await _copy(
        session,
        "item_barcodes",
        [r for s in specs for r in barcode_rows(tenant_id, ids[s.sku], s)],
    )
    return len(ids)


async def _copy(session: AsyncSession, table: str, rows: list[dict[str, Any]]) -> None:
    """COPY rows (dicts with the same keys) into a table, on the session's connection
    (so in its transaction)."""
    if not rows:
        return
    columns = list(rows[0])
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: psycopg.AsyncConnection[Any] = raw.driver_connection  # type: ignore[assignment]
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    try:
        async with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                await copy.write_row([row[c] for c in columns])
    except psycopg.errors.UniqueViolation as error:  # created meanwhile by another call
        raise Conflict(
            f"an item or barcode of the file was created meanwhile ({error.diag.message_detail});"
            " nothing was imported: send the file again",
            field="body",
        ) from error
    except (psycopg.errors.DataError, psycopg.errors.IntegrityError) as error:
        raise InvalidInput(
            f"a row does not fit the {table} table ({error.diag.message_primary}); nothing was"
            " imported",
            field="body",
        ) from error
