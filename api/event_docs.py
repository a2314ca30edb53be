"""The event catalogue in the OpenAPI document's `webhooks`: one entry per event type,
the body an endpoint receives (the envelope, with that type's `version` and `data`).

The entries are written here rather than as routes of `app.webhooks`: FastAPI would
read their bodies as input and split every shared schema in two (`OrderPublic-Input`,
`OrderPublic-Output`); a body an endpoint receives is what the API serializes, so its
schemas are the serialization ones the API's answers already use."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic.json_schema import models_json_schema

from api.schemas.events import data_schema, envelope_model
from domain.events import VERSIONS, EventType

_REF = "#/components/schemas/{model}"
_DELIVERY = (
    "POSTed to every enabled endpoint subscribed to `{type}` (or `{subject}.*`, `*`), signed"
    " per Standard Webhooks (`webhook-id` = the event's `id`, `webhook-timestamp`,"
    " `webhook-signature`). `data` is the {subject} as the API shows it ({schema}). Events"
    " of one subject arrive in `sequence` order; a 2xx answer is a delivery, anything else is"
    " retried for about three days. The same body is an item of `GET /v1/events`."
)


def event_webhooks() -> tuple[dict[str, Any], dict[str, Any]]:
    """(the `webhooks` section, the schemas its entries refer to)."""
    models = {t: envelope_model(t) for t in EventType}
    _, top = models_json_schema([(m, "serialization") for m in models.values()], ref_template=_REF)
    webhooks = {
        t.value: {
            "post": {
                "summary": f"{t.value} (version {VERSIONS[t]})",
                "description": _DELIVERY.format(
                    type=t.value, subject=t.subject.value, schema=data_schema(t).__name__
                ),
                "operationId": f"event_{t.value.replace('.', '_')}",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": _REF.format(model=m.__name__)}}
                    },
                },
                "responses": {"200": {"description": "received (any 2xx)"}},
            }
        }
        for t, m in models.items()
    }
    return webhooks, top.get("$defs", {})


def install_event_docs(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()
        if "webhooks" not in document:
            webhooks, schemas = event_webhooks()
            components = document.setdefault("components", {}).setdefault("schemas", {})
            for name, schema in schemas.items():
                components.setdefault(name, schema)
            document["webhooks"] = webhooks
        return document

    app.openapi = openapi  # type: ignore[method-assign]
