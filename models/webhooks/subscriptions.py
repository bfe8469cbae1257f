"""Integrators' webhook subscriptions and the log of every delivery attempt.

A subscription asks for the custody events and/or alerts of one jurisdiction, POSTed
to its URL and signed per the Standard Webhooks spec with a secret the server makes
and shows once. What has been delivered is kept per subscription: a cursor (the next
log index) for events; alerts, which a timer may raise long after their entries, are
matched against the delivery log instead (models.webhooks.delivery sends them)."""

from __future__ import annotations

import base64
import enum
import secrets
import uuid
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Uuid,
    delete,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.accounts import trail
from models.accounts.actor import Actor
from models.core.base import Base, UTCDateTime, utcnow
from models.core.errors import InvalidRequest, NotFound
from models.log.reads import get_log
from models.places.sites import get_site, regency_of, under

if TYPE_CHECKING:
    from models.webhooks.destinations import Destinations

MAX_URL = 2048


class WebhookKind(enum.StrEnum):
    EVENTS = "events"
    ALERTS = "alerts"


class Subscription(Base):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    log_id: Mapped[str] = mapped_column(ForeignKey("logs.id"), index=True)
    jurisdiction: Mapped[str] = mapped_column(String(32))  # a site code and all below it
    url: Mapped[str] = mapped_column(String(MAX_URL))
    kinds: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(64))  # whsec_…; HMAC needs it in clear
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Delivery state, written by the delivery worker that holds the lease.
    next_index: Mapped[int] = mapped_column(BigInteger)  # events from here on are unsent
    alerts_from: Mapped[datetime] = mapped_column(UTCDateTime)  # alerts before: all sent
    failures: Mapped[int] = mapped_column(Integer, default=0)  # in a row, since a success
    failing: Mapped[bool] = mapped_column(Boolean, default=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    leased_by: Mapped[str | None] = mapped_column(String(32))
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(BigInteger, default=0)  # numbers given to deliveries


class Delivery(Base):
    """One attempt to deliver one message (a webhook-id) to a subscription."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_message", "log_id", "subscription_id", "message_id"),
        Index("ix_webhook_deliveries_alert", "log_id", "subscription_id", "alert_id"),
    )

    log_id: Mapped[str] = mapped_column(ForeignKey("logs.id"), primary_key=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_subscriptions.id"), primary_key=True
    )
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[str] = mapped_column(String(40))  # the webhook-id header
    type: Mapped[str] = mapped_column(String(32))
    entry_index: Mapped[int | None] = mapped_column(BigInteger)  # an event's
    alert_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    attempt: Mapped[int] = mapped_column(Integer)  # of this message: 1, 2, 3…
    redelivery: Mapped[bool] = mapped_column(Boolean, default=False)  # asked for by hand
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer)

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def new_secret() -> str:
    """A Standard Webhooks symmetric secret: `whsec_` and base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def check_url(url: str, destinations: Destinations) -> str:
    """The URL, if webhooks may be sent there (models.webhooks.destinations). It may ask
    DNS: call it before a transaction, not in one."""
    if len(url) > MAX_URL:
        raise InvalidRequest(f"a webhook URL has at most {MAX_URL} characters")
    destinations.check_subscription(url)
    return url


def create_subscription(
    session: Session, *, owner: Actor, url: str, kinds: list[WebhookKind], jurisdiction: str
) -> Subscription:
    """A subscription from now on: events appended and alerts raised from this moment,
    sent to `url`, which check_url has passed."""
    if not kinds:
        raise InvalidRequest("say which kinds to send: events, alerts or both")
    get_site(session, jurisdiction)
    log = get_log(session, regency_of(jurisdiction))
    now = utcnow()
    subscription = Subscription(
        log_id=log.id,
        jurisdiction=jurisdiction,
        url=url,
        kinds=sorted(set(kinds)),
        secret=new_secret(),
        owner_id=owner.id,
        created_at=now,
        next_index=log.size,
        alerts_from=now,
        due_at=now,
    )
    session.add(subscription)
    session.flush()
    _audit(session, owner, "webhook.subscribe", subscription)
    return subscription


def _audit(session: Session, by: Actor | None, action: str, subscription: Subscription) -> None:
    # Where it sends, without the query string: it may carry a receiver's secret.
    parts = urlsplit(subscription.url)
    trail.record(
        session, by, action, str(subscription.id),
        {"url": f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}",
         "kinds": subscription.kinds, "owner": str(subscription.owner_id)},
        jurisdiction=subscription.jurisdiction,
    )


def list_subscriptions(
    session: Session,
    *,
    jurisdiction: str,
    owner: uuid.UUID | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[Subscription]:
    """Subscriptions in a jurisdiction, or only an owner's, by id."""
    query = select(Subscription).order_by(Subscription.id).limit(limit)
    if jurisdiction:
        query = query.where(under(Subscription.jurisdiction, jurisdiction))
    if owner is not None:
        query = query.where(Subscription.owner_id == owner)
    if after is not None:
        query = query.where(Subscription.id > after)
    return list(session.scalars(query))


def get_subscription(
    session: Session, subscription_id: uuid.UUID, *, owner: uuid.UUID | None = None
) -> Subscription:
    """The subscription; with an owner, only if it is theirs (others' are not found)."""
    subscription = session.get(Subscription, subscription_id)
    if subscription is None or owner not in (None, subscription.owner_id):
        raise NotFound(f"there is no webhook {subscription_id}")
    return subscription


def delete_subscription(session: Session, subscription: Subscription, by: Actor | None = None) -> None:
    """Stop sending; the delivery log goes with it. Recorded in the audit trail as done
    `by` someone (None: the service)."""
    _audit(session, by, "webhook.delete", subscription)
    session.execute(
        delete(Delivery).where(
            Delivery.log_id == subscription.log_id, Delivery.subscription_id == subscription.id
        )
    )
    session.execute(delete(Subscription).where(Subscription.id == subscription.id))


def list_deliveries(
    session: Session, subscription: Subscription, *, before: int | None, limit: int
) -> list[Delivery]:
    """A subscription's delivery attempts, newest first."""
    query = (
        select(Delivery)
        .where(Delivery.log_id == subscription.log_id, Delivery.subscription_id == subscription.id)
        .order_by(Delivery.number.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(Delivery.number < before)
    return list(session.scalars(query))


def get_delivery(session: Session, subscription: Subscription, number: int) -> Delivery:
    delivery = session.get(Delivery, (subscription.log_id, subscription.id, number))
    if delivery is None:
        raise NotFound(f"webhook {subscription.id} has no delivery {number}")
    return delivery


def delivery_positions(session: Session) -> list[tuple[str, int, bool]]:
    """(log, the next index to deliver, failing) of every subscription: how far each lags."""
    rows = session.execute(select(Subscription.log_id, Subscription.next_index, Subscription.failing))
    return [(log_id, next_index, failing) for log_id, next_index, failing in rows]
