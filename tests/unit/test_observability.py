"""Log lines, workflow ids and the sample dashboard, without servers."""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from prometheus_client import CollectorRegistry

from api.metrics import ApiMetrics
from api.request_context import request_id_of
from observability import context, logs
from observability.metrics import WorkerMetrics
from observability.tracing import Tracing
from settings import Settings

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "oms-dashboard.json"


def _exposed_names(registry: CollectorRegistry) -> set[str]:
    """What a scrape can show of each metric (counters end in _total, histograms
    in _bucket, _count and _sum)."""
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"], "gauge": [""]}
    return {
        family.name + suffix
        for family in registry.collect()
        for suffix in suffixes.get(family.type, [""])
    }


def test_every_metric_the_sample_dashboard_charts_exists_in_the_api_or_the_worker() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {name for expr in expressions for name in re.findall(r"\boms_[a-z_]+\b", expr)}
    known = _exposed_names(ApiMetrics().registry) | _exposed_names(WorkerMetrics().registry)
    assert len(used) >= 10
    assert used <= known, used - known


@pytest.mark.parametrize(
    ("workflow_id", "fields"),
    [
        ("order:7:SO-1", {"tenant_id": 7, "order_number": "SO-1"}),
        ("return:7:RMA:9", {"tenant_id": 7, "return_number": "RMA:9"}),
        ("transfer:12:T-1", {"tenant_id": 12, "transfer_number": "T-1"}),
        ("reservation-expiry", {}),
    ],
)
def test_a_workflow_id_names_its_tenant_and_business_number(
    workflow_id: str, fields: dict[str, object]
) -> None:
    assert context.workflow_fields(workflow_id) == {"workflow_id": workflow_id, **fields}


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger("tests.observability")
    log.setLevel(logging.INFO)
    log.propagate = False
    yield log
    log.handlers.clear()


def test_a_json_line_carries_the_context_of_its_activity(logger: logging.Logger) -> None:
    out = io.StringIO()
    logger.addHandler(logs.handler(Settings(log_format="json"), out))
    with context.scope(**context.workflow_fields("order:3:SO-9"), activity="pick_stock"):
        logger.info("picked %d", 2)
    logger.info("outside")
    inside, outside = (json.loads(line) for line in out.getvalue().splitlines())
    assert inside["message"] == "picked 2" and inside["level"] == "INFO"
    assert (inside["tenant_id"], inside["order_number"], inside["activity"]) == (
        3,
        "SO-9",
        "pick_stock",
    )
    assert inside["workflow_id"] == "order:3:SO-9" and "time" in inside
    assert "order_number" not in outside


def test_a_text_line_ends_with_its_fields_and_keeps_a_traceback_below(
    logger: logging.Logger,
) -> None:
    out = io.StringIO()
    logger.addHandler(logs.handler(Settings(), out))
    token = context.begin(request_id="r-1")
    context.bind(tenant_id=4, key_id="k1")
    try:
        raise ValueError("nope")
    except ValueError:
        logger.exception("failed")
    finally:
        context.end(token)
    first, *rest = out.getvalue().splitlines()
    assert first.endswith("ERROR tests.observability failed [request_id=r-1 tenant_id=4 key_id=k1]")
    assert rest[0].startswith("Traceback")


def test_a_workflow_line_gets_its_fields_from_the_sdk_details(logger: logging.Logger) -> None:
    out = io.StringIO()
    logger.addHandler(logs.handler(Settings(log_format="json"), out))
    details = {"workflow_id": "transfer:5:T-7", "workflow_type": "TransferWorkflow"}
    logger.info("shipped", extra={"temporal_workflow": {**details, "update_name": "ship"}})
    line = json.loads(out.getvalue())
    assert (line["transfer_number"], line["tenant_id"], line["update"]) == ("T-7", 5, "ship")
    assert "temporal_workflow" not in line


@pytest.mark.parametrize(
    ("sent", "kept"),
    [(b"abc-123", True), (b"a" * 129, False), (b"two words", False), (b"", False)],
)
def test_a_request_id_is_taken_from_the_caller_only_when_sane(sent: bytes, kept: bool) -> None:
    made = request_id_of({"headers": [(b"x-request-id", sent)]})
    assert (made == sent.decode()) is kept
    if not kept:  # a fresh id of our own instead
        assert re.fullmatch(r"[0-9a-f]{32}", made), made
        assert made != request_id_of({"headers": [(b"x-request-id", sent)]})


class _Collector(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, str, int]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], len(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_spans_go_to_the_configured_otlp_endpoint_over_http_protobuf() -> None:
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_port}/"
        tracing = Tracing.from_settings(Settings(otel_exporter_otlp_endpoint=endpoint), "oms-t")
        assert tracing.provider is not None and tracing.temporal_interceptors()
        with tracing.provider.get_tracer("t").start_as_current_span("one"):
            pass
        tracing.shutdown()  # flushes
    finally:
        server.shutdown()
    [(path, content_type, size)] = _Collector.received
    assert (path, content_type) == ("/v1/traces", "application/x-protobuf") and size > 0


def test_without_an_endpoint_tracing_is_off_and_instruments_nothing() -> None:
    tracing = Tracing.from_settings(Settings(otel_exporter_otlp_endpoint=None), "oms-t")
    assert tracing.provider is None
    assert tracing.temporal_interceptors() == []
