"""Record a finished workflow's history as a replay fixture.

    .venv/bin/python -m tests.histories.record WORKFLOW_ID NAME [--address localhost:7233]

writes tests/histories/NAME.json; `tests/integration/test_replay.py` replays every
file here against the current workflow code on each test run."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from temporalio.client import Client

HERE = Path(__file__).parent


async def record(workflow_id: str, name: str, address: str, namespace: str) -> Path:
    client = await Client.connect(address, namespace=namespace)
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    path = HERE / f"{name}.json"
    path.write_text(history.to_json())
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("workflow_id")
    parser.add_argument("name")
    parser.add_argument("--address", default="localhost:7233")
    parser.add_argument("--namespace", default="default")
    args = parser.parse_args()
    path = asyncio.run(record(args.workflow_id, args.name, args.address, args.namespace))
    print(f"wrote {path}")
    os._exit(0)  # skip teardown of Temporal's core threads (sdk-python#300)


if __name__ == "__main__":
    main()
