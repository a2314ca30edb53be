from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cli.seed import DEMO_TENANT, seed_demo
from domain.roles import Role
from tests.integration.stock_world import World


async def test_the_demo_seed_stocks_two_warehouses_and_a_second_seed_changes_nothing(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    keys_file = tmp_path / "keys.json"
    keys = await seed_demo(sessions, keys_file)
    assert set(keys) == set(Role)
    async with sessions() as session:
        tenant_id = await session.scalar(
            text("SELECT id FROM tenants WHERE slug = :s"), {"s": DEMO_TENANT}
        )
    demo = World(sessions, int(tenant_id or 0), DEMO_TENANT)
    ledger = await demo.ledger_size()

    assert await seed_demo(sessions, keys_file) == keys
    assert await demo.ledger_size() == ledger
    assert (await demo.level("TSHIRT-M", "BER"))["on_hand"] == 40
    assert (await demo.level("MUG", "HAM"))["on_hand"] == 30
    assert (await demo.level("FABRIC-RED", "BER"))["on_hand"] == 120  # 30 yd
    assert await demo.violations() == []
