from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment

from db.migrate import head_revision
from tests.conftest import unique
from worker import build_worker
from workflows.stack_check import StackCheckInput, StackCheckWorkflow


async def test_stack_check_reaches_the_migrated_database(
    time_skipping_env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
) -> None:
    task_queue = unique("tq")
    async with build_worker(time_skipping_env.client, sessions, task_queue):
        result = await time_skipping_env.client.execute_workflow(
            StackCheckWorkflow.run,
            StackCheckInput(requested_by="test"),
            id=unique("stack-check"),
            task_queue=task_queue,
        )
    assert result.worker_reached_database
    assert result.database.server_version.startswith("18")
    assert result.database.schema_revision == head_revision()
