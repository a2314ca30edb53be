"""Every recorded history replays on the current workflow code (DESIGN §5.6).

A change that breaks a recorded history needs `workflow.patched`, not a new fixture."""

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from worker import WORKFLOWS
from workflows.client import DATA_CONVERTER

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.json"))


def _workflow_type(path: Path) -> str:
    events = json.loads(path.read_text())["events"]
    started = events[0]["workflowExecutionStartedEventAttributes"]
    return str(started["workflowType"]["name"])


def test_every_workflow_has_a_recorded_history() -> None:
    recorded = {_workflow_type(path) for path in HISTORIES}
    registered = {wf.__temporal_workflow_definition.name for wf in WORKFLOWS}  # type: ignore[attr-defined]
    assert registered <= recorded, f"no history recorded for {registered - recorded}"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_recorded_history_replays(path: Path) -> None:
    replayer = Replayer(workflows=WORKFLOWS, data_converter=DATA_CONVERTER)
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    await replayer.replay_workflow(history)
