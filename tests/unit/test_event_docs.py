"""The event catalogue in the OpenAPI document: every event type has a `webhooks`
entry whose body is the envelope with that type's `version` and `data` schema."""

from __future__ import annotations

import json
import re

from api.app import create_app
from domain.events import VERSIONS, EventType
from settings import Settings


def test_every_event_type_has_a_webhook_entry_with_its_version_and_data_schema() -> None:
    app = create_app(Settings(database_url="postgresql+psycopg://oms@localhost/oms"))
    document = app.openapi()
    schemas = document["components"]["schemas"]
    assert set(document["webhooks"]) == {t.value for t in EventType}
    for event_type in EventType:
        operation = document["webhooks"][event_type.value]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        envelope = schemas[body["$ref"].rsplit("/", 1)[1]]
        fields = envelope["properties"]
        assert set(envelope["required"]) == {
            "id",
            "type",
            "version",
            "tenant",
            "occurred_at",
            "subject",
            "sequence",
            "data",
        }
        assert fields["type"]["const"] == event_type.value
        assert fields["version"]["const"] == VERSIONS[event_type]
        assert fields["data"]["$ref"].startswith("#/components/schemas/"), event_type
        assert set(operation["responses"]) == {"200"}
    changed = schemas["OrderStatusChangedEvent"]["properties"]["data"]["$ref"]
    assert changed.endswith("/OrderStatusChanged")
    assert "previous_status" in schemas["OrderStatusChanged"]["required"]
    shipment = schemas["ShipmentCreatedEvent"]["properties"]["data"]["$ref"]
    assert shipment.endswith("/ShipmentPublic")
    # every schema the document refers to is in it, no public schema split in two
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(document)))
    assert refs <= set(schemas)
    assert "OrderPublic" in schemas and "OrderPublic-Input" not in schemas
