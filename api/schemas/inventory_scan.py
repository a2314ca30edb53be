"""The inventory scan started by hand."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class InventoryScanStarted(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "workflow_id": "inventory-scan-7",
                    "run_id": "0192f0c4-8d3e-7c4b-9a51-3c2f1d1e6b10",
                }
            ]
        }
    )

    workflow_id: str = Field(description="the tenant's scan run (Temporal UI, TenantId)")
    run_id: str = Field(description="this run; a scan already running answers with its own")
