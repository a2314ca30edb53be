"""The inventory scan raises each alert kind once, says what to do, and resolves it
by itself when the condition clears; a condition that comes back reopens the same
alert; a scan with nothing changed writes nothing. Real Postgres and the
time-skipping Temporal server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from temporalio.testing import WorkflowEnvironment

from contracts.inventory_scan import (
    InventoryScanInput,
    InventoryScanResult,
    ScanAllInput,
    ScanStep,
)
from db.stock import queries
from db.stock.on_hand import adjust
from db.stock.promising import release
from domain.stock import AdjustStock, ReleaseReservation
from tests.conftest import unique
from tests.integration.order_helpers import keep_history
from tests.integration.stock_world import World
from worker import build_worker
from workflows.inventory_scan import InventoryScansWorkflow, InventoryScanWorkflow

TODAY = datetime.now(UTC).date()


async def _scan(
    world: World, env: WorkflowEnvironment, keep: str | None = None
) -> InventoryScanResult:
    """One run of the tenant's scan (pages of two rows: the paging is exercised)."""
    task_queue = unique("scan")
    async with build_worker(env.client, world.sessions, task_queue):
        handle = await env.client.start_workflow(
            InventoryScanWorkflow.run,
            InventoryScanInput(tenant_id=world.tenant_id, batch=2),
            id=unique("inventory-scan"),
            task_queue=task_queue,
        )
        result: InventoryScanResult = await handle.result()
        status = await handle.query(InventoryScanWorkflow.status)
        assert (status.step, status.raised, status.resolved) == (
            ScanStep.DONE,
            result.raised,
            result.resolved,
        )
        if keep:
            await keep_history(handle, keep)
    return result


async def _alerts(world: World, kind: str) -> list[tuple[int, str, str, str | None]]:
    """(id, reference, message, resolution) of the tenant's alerts of a kind."""
    async with world.sessions() as session:
        rows = await session.execute(
            text(
                "SELECT id, reference_id, message, resolution FROM alerts"
                " WHERE tenant_id = :t AND kind = :k ORDER BY id"
            ),
            {"t": world.tenant_id, "k": kind},
        )
        return [(r.id, r.reference_id, r.message, r.resolution) for r in rows]


async def _open(world: World, kind: str) -> list[str]:
    """The references of the open alerts of a kind."""
    async with world.sessions() as session:
        rows = await session.scalars(
            text(
                "SELECT reference_id FROM alerts WHERE tenant_id = :t AND kind = :k"
                " AND resolved_at IS NULL ORDER BY reference_id"
            ),
            {"t": world.tenant_id, "k": kind},
        )
        return list(rows)


async def _writes(world: World) -> tuple[int, int]:
    """(alerts, events) recorded for the tenant, with the alerts' last change."""
    async with world.sessions() as session:
        row = (
            await session.execute(
                text(
                    "SELECT (SELECT count(*) FROM alerts WHERE tenant_id = :t"
                    "         AND resolved_at IS NULL),"
                    "       (SELECT count(*) FROM events WHERE tenant_id = :t)"
                ),
                {"t": world.tenant_id},
            )
        ).one()
    return int(row[0]), int(row[1])


async def _set_item(world: World, sku: str, **values: int) -> None:
    sets = ", ".join(f"{name} = :{name}" for name in values)
    async with world.sessions() as session, session.begin():
        await session.execute(
            text(f"UPDATE items SET {sets} WHERE tenant_id = :t AND sku = :sku"),
            {"t": world.tenant_id, "sku": sku, **values},
        )


async def test_low_stock_is_raised_resolved_and_reopened_as_the_same_alert(
    world: World, time_skipping_env: WorkflowEnvironment
) -> None:
    await _set_item(world, "WIDGET", low_stock_threshold=10)
    await world.receive("WIDGET", 15)
    await _scan(world, time_skipping_env)
    assert await _alerts(world, "low_stock") == []

    reservation = await world.reserve("WIDGET", 8)
    await _scan(world, time_skipping_env)
    [(alert_id, reference, message, _)] = await _alerts(world, "low_stock")
    assert reference == "WIDGET@WH1"
    assert "7 ea available, threshold 10 ea" in message
    assert "Receive or transfer stock" in message
    assert "/v1/replenishment/suggestions?sku=WIDGET&warehouse=WH1" in message

    await release(world.sessions, world.caller(), ReleaseReservation(reservation.id))
    await _scan(world, time_skipping_env)
    assert await _alerts(world, "low_stock") == [
        (alert_id, reference, message, "available is 15 ea again (threshold 10 ea)")
    ]
    assert await _open(world, "low_stock") == []

    await world.reserve("WIDGET", 9)  # the condition comes back: the same alert opens
    await _scan(world, time_skipping_env)
    [(again, _, message, resolution)] = await _alerts(world, "low_stock")
    assert (again, resolution) == (alert_id, None)
    assert "6 ea available" in message


async def test_out_of_stock_and_below_reorder_point_say_display_units_and_resolve(
    world: World, time_skipping_env: WorkflowEnvironment
) -> None:
    await _set_item(world, "FABRIC", reorder_point=40)  # base units: 10 yd
    await world.receive("FABRIC", 48)  # 12 yd
    await world.receive("GADGET", 5)
    await _scan(world, time_skipping_env)
    assert await _open(world, "below_reorder_point") == []
    assert await _open(world, "out_of_stock") == []

    fabric = await world.reserve("FABRIC", 16)  # 8 yd left
    gadget = await world.reserve("GADGET", 5)
    await _scan(world, time_skipping_env)
    [(_, reference, message, _)] = await _alerts(world, "below_reorder_point")
    assert reference == "FABRIC@WH1"
    assert "8 yd available + 0 yd incoming = 8 yd, reorder point 10 yd" in message
    assert "Place a purchase order" in message
    [(_, reference, message, _)] = await _alerts(world, "out_of_stock")
    assert reference == "GADGET@WH1"
    assert "out of stock" in message and "Receive or transfer stock" in message
    assert await _open(world, "low_stock") == []  # no threshold set: never low

    await release(world.sessions, world.caller(), ReleaseReservation(fabric.id))
    await release(world.sessions, world.caller(), ReleaseReservation(gadget.id))
    await _scan(world, time_skipping_env)
    [(_, _, _, resolution)] = await _alerts(world, "below_reorder_point")
    assert resolution == "available + incoming is 12 yd again, above the reorder point 10 yd"
    [(_, _, _, resolution)] = await _alerts(world, "out_of_stock")
    assert resolution == "in stock again: 5 ea available"


async def test_expiring_and_expired_lots_alert_and_an_expired_lot_leaves_availability(
    world: World, time_skipping_env: WorkflowEnvironment
) -> None:
    await world.receive("MILK", 4, lot="FRESH", expires_on=TODAY + timedelta(days=10))
    await world.receive("MILK", 6, lot="OLD", expires_on=TODAY - timedelta(days=1))
    await world.receive("MILK", 3, lot="LATER", expires_on=TODAY + timedelta(days=90))

    result = await _scan(world, time_skipping_env, keep="inventory_scan_lots_and_levels")
    assert len(result.expired_lots) == 1  # the scan marks OLD expired (the lot-expiry rule)
    assert await _open(world, "expiring") == ["MILK/FRESH@WH1"]  # 10 days < 30
    [(_, reference, message, _)] = await _alerts(world, "expired")
    assert reference == "MILK/OLD@WH1"
    assert "6 ea on hand can no longer be sold" in message and "Dispose of it" in message
    async with world.sessions() as session:
        [level] = await queries.stock_levels(
            session,
            world.tenant_id,
            sku="MILK",
            warehouse="WH1",
            location=None,
            after=None,
            limit=10,
            today=TODAY,
        )
    assert (level.on_hand, level.held, level.available) == (13, 6, 7)
    assert await world.held("MILK") == 6  # stored, not only read

    await _set_item(world, "MILK", expiry_warning_days=5)  # FRESH is beyond the window now
    write_off = AdjustStock("WH1", "A1", "MILK", -6, "expired: disposed", lot="OLD")
    await adjust(world.sessions, world.caller(), write_off)
    await _scan(world, time_skipping_env)
    assert await _open(world, "expiring") == []
    assert await _open(world, "expired") == []
    [(_, _, _, resolution)] = await _alerts(world, "expiring")
    assert (
        resolution == f"the lot expires on {TODAY + timedelta(days=10)}, beyond the warning window"
    )
    [(_, _, _, resolution)] = await _alerts(world, "expired")
    assert resolution == "none of the lot is left at the warehouse"


async def test_a_drift_in_the_books_raises_a_reconciliation_alert_that_resolves_once_fixed(
    world: World, time_skipping_env: WorkflowEnvironment
) -> None:
    await world.receive("WIDGET", 5)
    await world.receive("BOLT", 5, lot="L1")

    async def drift(by: int) -> None:  # an `incoming` no transfer or PO explains
        async with world.sessions() as session, session.begin():
            await session.execute(
                text(
                    "UPDATE stock_levels s SET incoming = incoming + :by FROM items i"
                    " WHERE i.id = s.item_id AND s.tenant_id = :t AND i.sku IN ('WIDGET', 'BOLT')"
                ),
                {"t": world.tenant_id, "by": by},
            )

    await drift(3)
    result = await _scan(world, time_skipping_env)
    assert result.drifts == 1
    [(_, reference, message, _)] = await _alerts(world, "reconciliation")
    assert reference == world.slug
    assert message.startswith(
        "the books disagree: incoming differs from transfers and open purchase orders"
    )
    assert message.count("(expected 0, found 3)") == 2  # both places named
    assert f"oms reconcile --tenant {world.slug}" in message

    await _scan(world, time_skipping_env)  # still drifting: still one alert
    assert len(await _alerts(world, "reconciliation")) == 1

    await drift(-3)
    await _scan(world, time_skipping_env)
    [(_, _, _, resolution)] = await _alerts(world, "reconciliation")
    assert resolution == "the books agree again"


async def test_a_second_scan_with_nothing_changed_writes_no_alert_and_no_event(
    world: World, time_skipping_env: WorkflowEnvironment
) -> None:
    await _set_item(world, "WIDGET", low_stock_threshold=10, reorder_point=12)
    await world.receive("WIDGET", 4)
    await world.receive("MILK", 2, lot="SOON", expires_on=TODAY + timedelta(days=3))
    first = await _scan(world, time_skipping_env)
    assert first.raised == 3  # low_stock, below_reorder_point, expiring
    before = await _writes(world)
    assert before[0] == 3

    again = await _scan(world, time_skipping_env)
    assert (again.raised, again.resolved) == (0, 0)
    assert await _writes(world) == before


async def test_the_schedule_s_run_scans_each_tenant_in_its_own_run(
    world: World, time_skipping_env: WorkflowEnvironment
) -> None:
    await world.receive("GADGET", 1)
    await world.reserve("GADGET", 1)
    task_queue = unique("scans")
    env = time_skipping_env
    async with build_worker(env.client, world.sessions, task_queue):
        # tenants after the one before this world's: this one (and any made since)
        handle = await env.client.start_workflow(
            InventoryScansWorkflow.run,
            ScanAllInput(after_tenant=world.tenant_id - 1, tenants_per_page=50),
            id=unique("inventory-scans"),
            task_queue=task_queue,
        )
        result = await handle.result()
        await keep_history(handle, "inventory_scans_one_tenant")
    assert result.scanned >= 1
    assert await _open(world, "out_of_stock") == ["GADGET@WH1"]
    described = await env.client.get_workflow_handle(f"inventory-scan-{world.tenant_id}").describe()
    assert described.search_attributes["TenantId"] == [str(world.tenant_id)]
