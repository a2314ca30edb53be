"""Webhook endpoints and deliveries as the admin API takes and shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from api.schemas.common import Keyword, Printable, Text

Url = Annotated[
    str,
    Printable(max_length=2000),
    Field(
        description="where deliveries are POSTed: http(s), no credentials, a public host "
        "(unless OMS_WEBHOOKS_ALLOW_PRIVATE_URLS); the host must resolve when saved",
        examples=["https://shop.example.com/hooks/oms"],
    ),
]
EventTypes = Annotated[
    list[Keyword],
    Field(
        min_length=1,
        max_length=50,
        description="event types to receive: a type (`order.shipped`), every type of a "
        "subject (`order.*`) or everything (`*`)",
        examples=[["order.*", "shipment.created"]],
    ),
]
DeliveryStatus = Literal["pending", "delivered", "failed"]


class EndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url
    event_types: EventTypes
    description: Text | None = Field(None, examples=["shop: order updates"])
    enabled: bool = True


class EndpointUpdate(BaseModel):
    """Only the fields sent change; `description: null` clears it. Setting `enabled`
    back to true sends the endpoint's pending deliveries again."""

    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    event_types: EventTypes | None = None
    description: Text | None = None
    enabled: bool | None = None


class EndpointPublic(BaseModel):
    id: int = Field(examples=[7])
    url: str = Field(examples=["https://shop.example.com/hooks/oms"])
    event_types: list[str] = Field(examples=[["order.*", "shipment.created"]])
    description: str | None = Field(None, examples=["shop: order updates"])
    enabled: bool
    disabled_reason: str | None = Field(
        None,
        description="why it is disabled: by whom, or the deliveries that kept failing",
        examples=["disabled by key:3f9c0a1b2c4d"],
    )
    previous_secret_expires_at: datetime | None = Field(
        None, description="after a rotation: until when the old secret still signs too"
    )
    workflow_id: str = Field(
        description="its delivery workflow in Temporal (the UI lists its attempts)",
        examples=["webhook-endpoint-7"],
    )
    created_at: datetime
    updated_at: datetime


class EndpointWithSecret(EndpointPublic):
    secret: str = Field(
        description="signs every delivery (Standard Webhooks); shown only when the "
        "endpoint is created and when its secret is rotated: store it now",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


class AttemptPublic(BaseModel):
    attempted_at: datetime
    status_code: int | None = Field(None, description="none: no answer", examples=[503])
    error: str | None = Field(None, examples=["timed out after 15s"])
    latency_ms: int = Field(examples=[120])


class DeliveryPublic(BaseModel):
    id: int = Field(examples=[42])
    endpoint: int = Field(description="the endpoint's id", examples=[7])
    event_id: str = Field(examples=["evt_3b1f0c9e2d7a4c5b8e6f1a2b3c4d5e6f"])
    event_type: str = Field(examples=["order.shipped"])
    subject: dict[str, str] = Field(examples=[{"type": "order", "id": "SO-1001"}])
    sequence: int = Field(description="the event's number among its subject's events")
    status: DeliveryStatus
    attempt_count: int = Field(description="every attempt made, redeliveries included")
    attempts: list[AttemptPublic] = Field(description="the latest attempts, oldest first")
    last_status: int | None = Field(
        None, description="the HTTP status of the last attempt", examples=[200]
    )
    last_error: str | None = None
    latency_ms: int | None = Field(None, description="of the last attempt", examples=[120])
    last_attempt_at: datetime | None = None
    next_attempt_at: datetime | None = Field(None, description="when pending: when it is due")
    delivered_at: datetime | None = None
    created_at: datetime


class ReplayBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: AwareDatetime = Field(examples=["2026-11-30T00:00:00Z"])
    until: AwareDatetime | None = Field(
        None, description="exclusive; now when absent", examples=["2026-12-01T00:00:00Z"]
    )


class ReplayResult(BaseModel):
    created: int = Field(description="deliveries made for events it had not received")
    requeued: int = Field(description="deliveries sent again")
    next_since: datetime | None = Field(
        None,
        description="more events matched than one replay sends (10,000): replay again "
        "with this as `since`",
    )
