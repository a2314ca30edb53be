"""A workflow that reads the wall clock, which workflow code must not: what the
SDK's sandbox (OMS_WORKFLOW_SANDBOX) exists to catch. Its own module: the sandbox
imports a workflow's module anew, and this one needs nothing but the SDK."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow


@workflow.defn(name="ClockProbe")
class ClockProbe:
    @workflow.run
    async def run(self) -> str:
        return datetime.now().isoformat()  # non-deterministic on purpose
