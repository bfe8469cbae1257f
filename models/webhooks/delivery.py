"""Sends webhooks: a worker thread beside the checkpointer, never on the ingest path.

Each pass takes the subscriptions that are due, one at a time under a lease (several
server processes may run the worker), reads what each has not yet received from the
events and alerts tables in log order, and POSTs it message by message. A message is
done only after a 2xx (at-least-once; its webhook-id is stable, so receivers drop
repeats), and a failure stops the subscription's queue, so order per item holds. A
failing receiver is retried with exponential backoff and jitter, then slowly; its
failures hold up no other subscription. Every attempt goes to an address checked just
before it (models.webhooks.destinations)."""

from __future__ import annotations

import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from typing import Any

import httpx
import orjson
from sqlalchemy import exists, func, inspect, or_, select, update
from sqlalchemy.orm import Session
from standardwebhooks import Webhook

from models.core.base import utcnow
from models.core.db import Database, one_of
from models.core.errors import InvalidRequest
from models.core.metrics import WEBHOOK_ATTEMPTS, WEBHOOK_SECONDS
from models.core.periodic import Periodic
from models.core.settings import Settings
from models.custody.alerts import Alert
from models.custody.events import Event, visible_events
from models.log.sequencer import b64
from models.log.tables import Log, LogEntry
from models.places.sites import under
from models.webhooks.destinations import Destinations
from models.webhooks.subscriptions import Delivery, Subscription, WebhookKind

log = logging.getLogger(__name__)

BATCH = 100  # messages per subscription per pass
# An alert's created_at is stamped before its transaction commits (and by the clock of
# whichever process raised it): alerts this much older than one already seen are
# taken to be committed and seen too.
ALERT_SETTLING = timedelta(minutes=10)


@dataclass(frozen=True)
class Message:
    id: str  # the webhook-id: the same for every attempt at it
    type: str
    body: bytes
    entry_index: int | None = None
    alert_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int


def _message_id(subscription: Subscription, subject: str) -> str:
    return "msg_" + uuid.uuid5(subscription.id, subject).hex


def _fields(row: Any) -> dict[str, Any]:
    """Every column, as the API shows the row (its response models list them all)."""
    return {c.key: getattr(row, c.key) for c in inspect(row).mapper.column_attrs}


def _body(type: str, timestamp: datetime, data: dict[str, Any]) -> bytes:
    return orjson.dumps({"type": type, "timestamp": timestamp, "data": data}, option=orjson.OPT_UTC_Z)


def event_message(subscription: Subscription, event: Event, leaf_hash: bytes) -> Message:
    """A custody event as the events API shows it, with its entry's leaf hash."""
    data = {**_fields(event), "leaf_hash": b64(leaf_hash)}
    return Message(
        _message_id(subscription, f"event/{event.entry_index}"),
        "custody.event",
        _body("custody.event", event.received_at, data),
        entry_index=event.entry_index,
    )


def alert_message(subscription: Subscription, alert: Alert) -> Message:
    return Message(
        _message_id(subscription, f"alert/{alert.id}"),
        "custody.alert",
        _body("custody.alert", alert.created_at, _fields(alert)),
        alert_id=alert.id,
    )


def _event_messages(session: Session, subscription: Subscription, events: list[Event]) -> list[Message]:
    leaves = dict(
        session.execute(
            select(LogEntry.idx, LogEntry.leaf_hash).where(
                LogEntry.log_id == subscription.log_id,
                one_of(session, LogEntry.idx, [e.entry_index for e in events]),
            )
        ).all()
    )
    return [event_message(subscription, e, leaves[e.entry_index]) for e in events]


@dataclass
class Pending:
    messages: list[Message]
    complete: bool  # nothing more to send than these
    log_size: int  # when complete: every event it wants below this index is among them
    newest_alert: datetime | None = None


def pending(session: Session, subscription: Subscription, limit: int = BATCH) -> Pending:
    """What a subscription has yet to receive, in order: events in log order, then the
    alerts not yet delivered, oldest first. Alerts are read before the log's size, so
    the entries they are about are sent before them."""
    alerts: list[Alert] = []
    if WebhookKind.ALERTS in subscription.kinds:
        sent = exists().where(
            Delivery.log_id == subscription.log_id,
            Delivery.subscription_id == subscription.id,
            Delivery.alert_id == Alert.id,
            Delivery.status_code.between(200, 299),
        )
        query = select(Alert).where(
            Alert.log_id == subscription.log_id, Alert.created_at >= subscription.alerts_from, ~sent
        )
        if len(subscription.jurisdiction) > len(subscription.log_id):
            query = query.where(
                under(Alert.site, subscription.jurisdiction) | under(Alert.item_id, subscription.jurisdiction)
            )
        alerts = list(session.scalars(query.order_by(Alert.created_at, Alert.id).limit(limit)))
    size = session.scalar(select(Log.size).where(Log.id == subscription.log_id)) or 0
    newest = alerts[-1].created_at if alerts else None
    if WebhookKind.EVENTS not in subscription.kinds:
        return Pending([alert_message(subscription, a) for a in alerts], len(alerts) < limit, size, newest)
    query = visible_events(subscription.log_id, subscription.jurisdiction)
    events = list(session.scalars(query.where(Event.entry_index >= subscription.next_index).limit(limit)))
    messages = _event_messages(session, subscription, events) if events else []
    if len(events) == limit:  # the alerts wait for the entries they follow
        return Pending(messages, False, size)
    messages += [alert_message(subscription, a) for a in alerts]
    return Pending(messages, len(alerts) < limit, size, newest)


def message_of(session: Session, subscription: Subscription, delivery: Delivery) -> Message:
    """The message a past delivery sent, rebuilt from its event or alert."""
    if delivery.alert_id is not None:
        alert = session.get_one(Alert, (subscription.log_id, delivery.alert_id))
        return alert_message(subscription, alert)
    event = session.scalars(
        select(Event).where(Event.log_id == subscription.log_id, Event.entry_index == delivery.entry_index)
    ).one()
    return _event_messages(session, subscription, [event])[0]


def _progress(subscription: Subscription, todo: Pending) -> dict[str, Any]:
    """What a pass that sent all it read moves on, besides the cursor each event moves:
    past the entries the subscription did not want, and the start of the alerts that
    may still come."""
    values: dict[str, Any] = {}
    if todo.complete and todo.log_size > subscription.next_index:
        values["next_index"] = todo.log_size
    if todo.complete and todo.newest_alert is not None:
        settled = todo.newest_alert - ALERT_SETTLING
        if settled > subscription.alerts_from:
            values["alerts_from"] = settled
    return values


def _client(timeout: float) -> httpx.Client:
    """A client for one subscription's messages. Its connections are to an address, not
    a name, so they are not shared with another subscription's host name. Redirects are
    not followed: a receiver that moved updates its subscription."""
    return httpx.Client(timeout=timeout, follow_redirects=False)


class Deliverer(Periodic):
    name = "webhooks"

    def __init__(self, db: Database, settings: Settings) -> None:
        super().__init__(settings.webhook_interval)
        self.db = db
        self.timeout = settings.webhook_timeout
        self.backoff = settings.webhook_backoff
        self.attempts = settings.webhook_attempts
        self.failing_interval = settings.webhook_failing_interval
        self.destinations = Destinations.of(settings)
        self.user_agent = f"Jejak-Webhooks/{version('jejak')} (+{settings.public_url})"
        # Long enough for a whole pass of one subscription, every attempt timing out.
        self.lease = timedelta(seconds=BATCH * self.timeout + 60)

    def tick(self) -> int:
        return self.deliver_due()

    def deliver_due(self, now: datetime | None = None) -> int:
        """Send what every due subscription has yet to receive; returns how many messages
        were delivered. `now` is the scheduling clock (tests pass their own); signatures
        always carry the real time."""
        now = now or utcnow()
        with self.db.reads() as session:
            due = session.scalars(
                select(Subscription.id)
                .where(
                    Subscription.due_at <= now,
                    or_(Subscription.leased_until.is_(None), Subscription.leased_until <= now),
                )
                .order_by(Subscription.due_at)
            ).all()
        delivered = 0
        for subscription_id in due:
            if self._stop.is_set():
                break
            try:
                delivered += self._serve(subscription_id, now)
            except Exception:  # one subscription's trouble holds up none of the others
                log.exception("webhook %s: delivery failed", subscription_id)
        return delivered

    def retry_delay(self, failures: int) -> timedelta:
        """After `failures` failed attempts in a row: backoff, 2×backoff, 4×backoff…
        (each shortened by up to half at random, so receivers that failed together are
        not retried together), and every failing_interval once marked failing."""
        if failures >= self.attempts:
            seconds = self.failing_interval
        else:
            seconds = min(self.backoff * 2 ** (failures - 1), self.failing_interval)
        return timedelta(seconds=seconds * random.uniform(0.5, 1.0))

    def redeliver(self, subscription: Subscription, delivery: Delivery) -> Delivery | None:
        """Send a past delivery's message again, now; returns the new attempt (None if
        the subscription was deleted meanwhile). The queue and its order are untouched;
        a success makes a waiting subscription due at once."""
        with self.db.reads() as session:
            message = message_of(session, subscription, delivery)
        with _client(self.timeout) as http:
            outcome = self._send(http, subscription, message)
        with self.db.session(write=True) as session:
            recorded = self._record(session, subscription, message, outcome, utcnow(), redelivery=True)
            if recorded is not None and recorded.ok:
                session.execute(
                    update(Subscription).where(Subscription.id == subscription.id).values(due_at=utcnow())
                )
        return recorded

    def _serve(self, subscription_id: uuid.UUID, now: datetime) -> int:
        with self.db.reads() as session:
            subscription = session.get(Subscription, subscription_id)
            if subscription is None:
                return 0
            todo = pending(session, subscription)
        if not todo.messages and not _progress(subscription, todo):
            return 0  # idle: no lease taken, nothing written
        lease = uuid.uuid4().hex
        with self.db.session(write=True) as session:
            claimed = session.execute(
                update(Subscription)
                .where(
                    Subscription.id == subscription_id,
                    Subscription.due_at <= now,
                    or_(Subscription.leased_until.is_(None), Subscription.leased_until <= now),
                )
                .values(leased_by=lease, leased_until=now + self.lease)
            ).rowcount
            subscription = session.get(Subscription, subscription_id) if claimed else None
        if subscription is None:
            return 0  # another worker took it, or it was deleted
        delivered, progress = 0, {}
        try:
            with self.db.reads() as session:
                todo = pending(session, subscription)  # again: now no one else sends
            with _client(self.timeout) as http:
                for message in todo.messages:
                    if not self._attempt(http, subscription, message, lease, now):
                        return delivered
                    delivered += 1
            progress = _progress(subscription, todo)
            return delivered
        finally:
            with self.db.session(write=True) as session:
                session.execute(
                    update(Subscription)
                    .where(Subscription.id == subscription_id, Subscription.leased_by == lease)
                    .values(leased_by=None, leased_until=None, **progress)
                )

    def _attempt(
        self, http: httpx.Client, subscription: Subscription, message: Message, lease: str, now: datetime
    ) -> bool:
        """One try at the head of the queue; moves the queue on after a 2xx, else
        schedules the retry. False when the queue must stop here."""
        outcome = self._send(http, subscription, message)
        with self.db.session(write=True) as session:
            delivery = self._record(session, subscription, message, outcome, now, redelivery=False)
            if delivery is None:
                return False
            mine = (Subscription.id == subscription.id, Subscription.leased_by == lease)
            if delivery.ok:
                values: dict[str, Any] = {"failures": 0, "failing": False}
                if message.entry_index is not None:
                    subscription.next_index = message.entry_index + 1
                    values["next_index"] = subscription.next_index
                return bool(session.execute(update(Subscription).where(*mine).values(**values)).rowcount)
            failures = subscription.failures + 1
            session.execute(
                update(Subscription)
                .where(*mine)
                .values(
                    failures=failures,
                    failing=failures >= self.attempts,
                    due_at=now + self.retry_delay(failures),
                )
            )
            subscription.failures = failures
        log.warning(
            "webhook %s: delivery %s failed (%s)",
            subscription.id, message.id, outcome.error or outcome.status_code,
        )
        return False

    def _send(self, http: httpx.Client, subscription: Subscription, message: Message) -> Outcome:
        timestamp = int(time.time())
        headers = {
            "user-agent": self.user_agent,
            "content-type": "application/json",
            "webhook-id": message.id,
            "webhook-timestamp": str(timestamp),
            # Signed by the Standard Webhooks library, the one receivers verify with.
            "webhook-signature": Webhook(subscription.secret).sign(
                message.id, datetime.fromtimestamp(timestamp, UTC), message.body
            ),
        }
        started = time.perf_counter()
        try:
            # Checked again now, on what the host name resolves to now (DNS rebinding).
            target = self.destinations.target(subscription.url)
            # Streamed and never read: only the status matters, not a large answer.
            with http.stream(
                "POST", target.url, content=message.body, headers={**headers, **target.headers},
                extensions=target.extensions,
            ) as response:
                status, error = response.status_code, None
        except InvalidRequest as refused:
            status, error = None, refused.detail[:500]
        except httpx.HTTPError as failure:
            status, error = None, f"{type(failure).__name__}: {failure}"[:500]
        seconds = time.perf_counter() - started
        WEBHOOK_SECONDS.observe(seconds)
        delivered = status is not None and 200 <= status < 300
        WEBHOOK_ATTEMPTS.labels("delivered" if delivered else "failed").inc()
        return Outcome(status, error, round(seconds * 1000))

    def _record(
        self,
        session: Session,
        subscription: Subscription,
        message: Message,
        outcome: Outcome,
        now: datetime,
        *,
        redelivery: bool,
    ) -> Delivery | None:
        number = session.execute(
            update(Subscription)
            .where(Subscription.id == subscription.id)
            .values(attempts=Subscription.attempts + 1)
            .returning(Subscription.attempts)
        ).scalar()
        if number is None:
            return None  # deleted while we sent
        earlier = session.scalar(
            select(func.count()).where(
                Delivery.log_id == subscription.log_id,
                Delivery.subscription_id == subscription.id,
                Delivery.message_id == message.id,
            )
        )
        delivery = Delivery(
            log_id=subscription.log_id,
            subscription_id=subscription.id,
            number=number,
            message_id=message.id,
            type=message.type,
            entry_index=message.entry_index,
            alert_id=message.alert_id,
            attempt=(earlier or 0) + 1,
            redelivery=redelivery,
            attempted_at=now,
            status_code=outcome.status_code,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
        )
        session.add(delivery)
        return delivery
