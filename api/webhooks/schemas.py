"""Shapes of the webhooks API."""

from __future__ import annotations

import uuid
from datetime import datetime

from models.core.inputs import FreeText
from models.webhooks.subscriptions import MAX_URL, WebhookKind
from pydantic import BaseModel, ConfigDict, Field


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"url": "https://silog.example/jejak-hook", "kinds": ["events", "alerts"], "jurisdiction": "53.03"}]
        },
    )

    url: FreeText = Field(max_length=MAX_URL, description="Where to POST: an http:// or https:// URL (https:// in production) "
                          "whose host is at a public address",
                          examples=["https://silog.example/jejak-hook"])
    kinds: list[WebhookKind] = Field(min_length=1, description="events, alerts or both")
    jurisdiction: FreeText = Field(
        max_length=32,
        description="A site code within your jurisdiction: what happens there and below it",
        examples=["53.03"],
    )


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    log_id: str
    jurisdiction: str
    url: str
    kinds: list[WebhookKind]
    created_at: datetime
    next_index: int = Field(description="Events from this log index on are not yet delivered")
    failures: int = Field(description="Failed attempts in a row since the last success")
    failing: bool = Field(description="Retried only every JEJAK_WEBHOOK_FAILING_INTERVAL seconds")
    due_at: datetime = Field(description="When the next attempt is due")


class NewSubscriptionOut(SubscriptionOut):
    secret: str = Field(
        description="whsec_…: verifies every delivery's webhook-signature. Shown only now: keep it"
    )


class SubscriptionPage(BaseModel):
    webhooks: list[SubscriptionOut]
    next: str | None


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int = Field(description="1, 2, 3… per subscription: the delivery's id")
    message_id: str = Field(description="The webhook-id header: the same for every attempt")
    type: str = Field(examples=["custody.event", "custody.alert"])
    entry_index: int | None = Field(description="The event's log index")
    alert_id: uuid.UUID | None
    attempt: int = Field(description="1 for the message's first attempt, 2 for its second…")
    redelivery: bool = Field(description="Asked for by hand")
    attempted_at: datetime
    status_code: int | None = Field(description="The receiver's answer; none if it gave none")
    error: str | None = Field(description="Why there was no answer (refused, timed out…)")
    duration_ms: int
    ok: bool = Field(description="A 2xx answer: delivered")


class DeliveryPage(BaseModel):
    deliveries: list[DeliveryOut]
    next: str | None
