"""A worker that stops answering right after an order's reservation committed: it
runs the real `reserve_lines`, prints "reserved, now hanging" and never returns, so
the step's result never reaches Temporal. The test SIGKILLs it there
(tests/e2e/test_processes.py).

    OMS_DATABASE_URL=... OMS_TEMPORAL_ADDRESS=... OMS_TEMPORAL_TASK_QUEUE=... \\
        python -m tests.e2e.worker_dying_after_reserve
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from db.engine import create_engine, create_session_factory
from settings import Settings
from worker import build_worker
from workflows.client import connect


class _HangAfterReserve(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        result = await self.next.execute_activity(input)
        if activity.info().activity_type == "reserve_lines":
            print("reserved, now hanging", flush=True)
            await asyncio.Event().wait()
        return result


class HangAfterReserve(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _HangAfterReserve(next)


async def main() -> None:
    settings = Settings()
    sessions = create_session_factory(create_engine(settings, worker=True))
    client = await connect(settings)
    worker = build_worker(
        client, sessions, settings.temporal_task_queue, interceptors=[HangAfterReserve()]
    )
    async with worker:
        print("worker polling task queue", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
