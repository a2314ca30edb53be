"""One Settings object for every process, read from the environment (OMS_*)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ALERT_AFTER_ATTEMPTS = 5

Port = Annotated[int, Field(ge=1, le=65535)]
PortOrOff = Annotated[int, Field(ge=0, le=65535)]  # 0: do not listen

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5433/oms"


class Settings(BaseSettings):
    """Every field is `OMS_<NAME>` in the environment; all have safe local defaults."""

    model_config = SettingsConfigDict(
        env_prefix="OMS_", extra="ignore", frozen=True, populate_by_name=True
    )

    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL of PostgreSQL, driver psycopg (postgresql+psycopg://…)",
    )
    database_pool_size: Annotated[int, Field(ge=1, le=200)] = 10
    database_pool_timeout_seconds: Annotated[float, Field(gt=0)] = Field(
        5.0, description="longest wait for a free pooled connection; then 503"
    )
    database_connect_timeout_seconds: Annotated[int, Field(ge=1)] = Field(
        5, description="longest wait for a new connection to PostgreSQL"
    )
    database_statement_timeout_ms: Annotated[int, Field(ge=0)] = Field(
        5000, description="API and CLI: a statement running longer is canceled (0: no limit)"
    )
    database_lock_timeout_ms: Annotated[int, Field(ge=0)] = Field(
        3000, description="API and CLI: a wait for a lock longer than this is canceled (0: none)"
    )
    worker_statement_timeout_ms: Annotated[int, Field(ge=0)] = Field(
        60_000, description="the worker's statement timeout, which also bounds its lock waits"
    )
    database_pool_pre_ping: bool = Field(
        True, description="test a pooled connection before use (a dead one is replaced)"
    )

    temporal_address: str = Field("localhost:7233", description="host:port of Temporal's gRPC")
    temporal_namespace: str = "default"
    temporal_task_queue: str = "oms"
    temporal_tls: bool = False
    temporal_tls_cert: Path | None = Field(None, description="client certificate (mTLS)")
    temporal_tls_key: Path | None = Field(None, description="client private key (mTLS)")
    temporal_api_key: SecretStr | None = Field(None, description="Temporal Cloud API key")
    temporal_rpc_timeout_seconds: Annotated[float, Field(gt=0)] = Field(
        10.0, description="API: deadline of each call to Temporal (connect, start, query, signal)"
    )
    update_timeout_seconds: Annotated[float, Field(gt=0)] = Field(
        20.0,
        description="API: longest wait for a workflow step (an update); then 504. Below "
        "the shutdown grace, so a step in flight at SIGTERM still gets its answer",
    )
    early_step_wait_seconds: Annotated[float, Field(ge=0)] = Field(
        10.0,
        description="API: a step that comes early (what enables it is still under way, e.g. "
        "a transfer still reserving) is asked again this long (at most half the update "
        "timeout), then refused with 409",
    )

    return_window_days: Annotated[int, Field(ge=1, le=3650)] = Field(
        30, description="a return with nothing received this long after its request expires"
    )
    transfer_alert_after_seconds: Annotated[int, Field(ge=1)] = Field(
        3 * 24 * 3600, description="a transfer in transit longer than this raises an alert"
    )
    # Promise dates of backordered lines (README, "Backorders and promise dates").
    late_supply_grace_hours: Annotated[int, Field(ge=0, le=24 * 365)] = Field(
        24,
        description="a PO or transfer past its expected date counts as arriving this long "
        "from now when backordered lines are promised",
    )

    # The inventory scan (README, "Inventory scan"): stock and lot alerts, reconciliation.
    inventory_scan_minutes: Annotated[int, Field(ge=1, le=1440)] = Field(
        5, description="every tenant's stock is scanned this often (schedule inventory-scan)"
    )
    expiry_warning_days: Annotated[int, Field(ge=0, le=3650)] = Field(
        30, description="a lot expiring within this many days is `expiring` (items may override)"
    )

    # Replenishment (README, "Reorder suggestions and inventory health").
    demand_history_days: Annotated[int, Field(ge=7, le=730)] = Field(
        90, description="days of shipped-minus-returned demand a forecast and days of cover read"
    )
    default_lead_time_days: Annotated[int, Field(ge=0, le=365)] = Field(
        7, description="lead time of an item with none of its own nor of its default supplier"
    )

    # Purchase orders: a receipt may take a line to ordered * (1 + this); more is refused.
    po_over_receipt_tolerance: Annotated[Decimal, Field(ge=0, le=1)] = Field(
        Decimal("0"),
        description="purchase orders: the fraction a line may be over-received (0.05: 5%), "
        "fixed on each PO when it is created",
    )

    activity_alert_attempts: Annotated[int, Field(ge=1, le=1000)] = Field(
        ALERT_AFTER_ATTEMPTS,
        description="an activity still failing at this attempt raises an activity_failing alert",
    )
    workflow_sandbox: bool = Field(
        True,
        description=(
            "worker: run workflow code in Temporal's sandbox, a runtime guard against"
            " non-deterministic calls; false saves CPU per order (the test suite keeps it on)"
        ),
    )

    webhooks_allow_private_urls: bool = Field(
        False,
        description="webhook endpoints may point to loopback and private addresses (SSRF "
        "guard off); `oms dev` turns it on so a receiver on localhost works",
    )
    webhook_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = Field(
        15.0, description="a webhook attempt without an answer this long has failed"
    )

    api_key_cache_seconds: Annotated[float, Field(ge=0, le=300)] = Field(
        10.0,
        description="how long an API process trusts a key it checked; a revoke reaches "
        "other processes at once (Postgres NOTIFY), this bounds it while that link is down",
    )

    max_body_bytes: Annotated[int, Field(ge=1024)] = Field(
        4 * 1024 * 1024, description="larger request bodies are refused (413) before parsing"
    )
    api_host: str = "127.0.0.1"
    api_port: Port = 8000
    api_shutdown_grace_seconds: Annotated[int, Field(ge=1)] = Field(
        25,
        description="on SIGTERM, requests still running after this are canceled (under "
        "the 30 s an orchestrator such as Kubernetes waits before it kills)",
    )

    # Observability (README, "Observability").
    log_format: Literal["text", "json"] = Field(
        "text", description="text: readable lines; json: one JSON object per line"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    otel_exporter_otlp_endpoint: str | None = Field(
        None,
        validation_alias=AliasChoices(
            "OMS_OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"
        ),
        description="OTLP/HTTP collector base URL (e.g. http://localhost:4318); traces are "
        "exported there, and not made at all when unset",
    )
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: PortOrOff = Field(
        9464, description="the worker's Prometheus /metrics (business metrics); 0: off"
    )
    temporal_metrics_port: PortOrOff = Field(
        9465, description="the worker's Temporal SDK metrics (Prometheus); 0: off"
    )

    # Operator console (/console).
    console_secret: SecretStr | None = Field(
        None,
        description="signs the console's session cookie; unset: a random one per process "
        "(sessions end when it restarts; set it when several API processes serve the console)",
    )
    console_session_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] = Field(
        480, description="a console session ends this long after its last request"
    )
    console_secure_cookie: bool = Field(
        False, description="send the console's session cookie over HTTPS only (set in production)"
    )
    temporal_ui_url: str | None = Field(
        None,
        description="the Temporal UI the console links runs to; unset: "
        "http://127.0.0.1:<OMS_TEMPORAL_UI_PORT> (the embedded one)",
    )

    # Embedded development stack (`oms dev`).
    data_dir: Path = Field(Path(".oms"), description="where `oms dev` keeps its data")
    postgres_port: Port = 5433
    temporal_ui_port: Port = 8233
    dev_restart_limit: Annotated[int, Field(ge=1)] = Field(
        5, description="`oms dev` stops when a part dies this many times within 60 s"
    )

    @field_validator("database_url")
    @classmethod
    def _postgres_with_psycopg(cls, value: str) -> str:
        if not value.startswith("postgresql+psycopg://"):
            raise ValueError("must start with postgresql+psycopg:// (PostgreSQL, psycopg 3 driver)")
        return value

    @field_validator("temporal_address")
    @classmethod
    def _host_and_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("must be host:port, e.g. localhost:7233")
        return value

    @field_validator("temporal_namespace", "temporal_task_queue")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        if (self.temporal_tls_cert is None) != (self.temporal_tls_key is None):
            raise ValueError("OMS_TEMPORAL_TLS_CERT and OMS_TEMPORAL_TLS_KEY go together")
        if self.temporal_tls_cert is not None and not self.temporal_tls:
            raise ValueError("OMS_TEMPORAL_TLS_CERT needs OMS_TEMPORAL_TLS=true")
        return self

    @property
    def temporal_uses_tls(self) -> bool:
        return self.temporal_tls or self.temporal_api_key is not None


def env_var_names() -> set[str]:
    """The environment variables Settings reads (docker-compose and docs use them)."""
    prefix = Settings.model_config.get("env_prefix", "")
    return {f"{prefix}{name}".upper() for name in Settings.model_fields}
