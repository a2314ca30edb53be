"""OpenTelemetry traces from an HTTP request through its workflow and activities to
their SQL. On only when an OTLP endpoint is configured; otherwise `Tracing.off()`
instruments nothing (no spans are made, nothing is exported)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from fastapi import FastAPI
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Tracer
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.contrib.opentelemetry import TracingInterceptor

from db.call_pool import call_pool
from settings import Settings

# Probes and scrapes would be most of the spans and say nothing.
UNTRACED_URLS = "healthz,readyz,metrics"


@dataclass(frozen=True)
class Tracing:
    """Where spans go (`provider`), or nowhere (None). One per process."""

    provider: TracerProvider | None = None

    @classmethod
    def off(cls) -> Tracing:
        return cls(None)

    @classmethod
    def from_settings(cls, settings: Settings, service: str) -> Tracing:
        endpoint = settings.otel_exporter_otlp_endpoint
        if not endpoint:
            return cls.off()
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")
        provider.add_span_processor(BatchSpanProcessor(exporter))
        return cls(provider)

    def temporal_interceptors(self) -> list[TracingInterceptor]:
        """For the Temporal client (the API: start, update, query spans carry the
        request's trace to the workflow) and the worker (workflow and activity
        spans, local activities included)."""
        if self.provider is None:
            return []
        return [TracingInterceptor(self.provider.get_tracer("oms.temporal"))]

    def instrument_app(self, app: FastAPI) -> None:
        if self.provider is not None:
            FastAPIInstrumentor.instrument_app(
                app,
                tracer_provider=self.provider,
                meter_provider=NoOpMeterProvider(),
                excluded_urls=UNTRACED_URLS,
                exclude_spans=["receive", "send"],
            )

    def instrument_engine(self, engine: AsyncEngine) -> None:
        """A span per SQL statement on this engine only (the instrumentor's global
        `instrument()` would also patch `create_engine` for the whole process), and
        on its call pool (db/call_pool.py: statements sent straight through psycopg)."""
        if self.provider is not None:
            connections = NoOpMeterProvider().get_meter("oms").create_up_down_counter("unused")
            tracer = self.provider.get_tracer("oms.sql")
            EngineTracer(tracer, engine.sync_engine, connections)  # type: ignore[no-untyped-call]
            pool = call_pool(engine)
            if pool is not None:
                pool.use_cursor(traced_cursor(tracer))

    def shutdown(self) -> None:
        """Send what is buffered (at process exit)."""
        if self.provider is not None:
            self.provider.shutdown()


def traced_cursor(tracer: Tracer) -> type[psycopg.AsyncCursor[Any]]:
    """A psycopg cursor class making a span per statement, as the engine's are made
    (a child of the current span: the activity's)."""

    class TracedCursor(psycopg.AsyncCursor[Any]):
        async def execute(self, query: Any, *args: Any, **kwargs: Any) -> TracedCursor:
            statement = str(query)
            database = self.connection.info.dbname
            attributes = {"db.system": "postgresql", "db.name": database, "db.statement": statement}
            name = f"{(statement.split(maxsplit=1) or ['SQL'])[0]} {database}".strip()
            with tracer.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes):
                await super().execute(query, *args, **kwargs)
                return self

    return TracedCursor
