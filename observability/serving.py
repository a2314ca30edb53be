"""The worker's two Prometheus endpoints: its business metrics (prometheus_client)
and the Temporal SDK's own (the SDK's core serves them). Neither is worth a
worker that does not run: a port that is taken is logged and left off."""

from __future__ import annotations

import logging
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from observability.metrics import WorkerMetrics
from settings import Settings

log = logging.getLogger(__name__)


def worker_metrics_url(settings: Settings) -> str | None:
    if not settings.worker_metrics_port:
        return None
    return f"http://{settings.worker_metrics_host}:{settings.worker_metrics_port}/metrics"


def temporal_metrics_url(settings: Settings) -> str | None:
    if not settings.temporal_metrics_port:
        return None
    return f"http://{settings.worker_metrics_host}:{settings.temporal_metrics_port}/metrics"


def serve_worker_metrics(settings: Settings, metrics: WorkerMetrics) -> WSGIServer | None:
    """Serve /metrics from a thread of this process (until it exits, or the server
    returned is shut down)."""
    if not settings.worker_metrics_port:
        return None
    try:
        server, _ = start_http_server(
            settings.worker_metrics_port, settings.worker_metrics_host, metrics.registry
        )
    except OSError as error:
        log.error("worker metrics not served on port %d: %s", settings.worker_metrics_port, error)
        return None
    log.info("worker metrics on %s", worker_metrics_url(settings))
    return server


def temporal_runtime(settings: Settings) -> Runtime | None:
    """A Temporal runtime that serves the SDK's metrics (None: the default runtime,
    no metrics). One per process: the worker's client connects with it."""
    if not settings.temporal_metrics_port:
        return None
    address = f"{settings.worker_metrics_host}:{settings.temporal_metrics_port}"
    try:
        runtime = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))
    except ValueError as error:  # what the SDK raises for a port that is taken
        log.error("Temporal SDK metrics not served on %s: %s", address, error)
        return None
    log.info("Temporal SDK metrics on %s", temporal_metrics_url(settings))
    return runtime
