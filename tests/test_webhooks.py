"""Webhooks to a real HTTP receiver on loopback: Standard Webhooks signatures, every
event exactly once (after deduplication by webhook-id) and in order despite failures,
scans accepted while the receiver is down, and who may subscribe to what. Loopback is
opened to webhooks by the settings (JEJAK_WEBHOOK_ALLOWED_NETWORKS), as a deployment
opens a private network; tests/test_webhook_destinations.py tests the rule itself."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_network
from typing import Any

import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook, WebhookVerificationError

from models.accounts.actor import SCOPES, Role
from models.core.base import utcnow
from models.runtime import Runtime
from models.webhooks.delivery import Deliverer
from models.webhooks.subscriptions import Subscription
from tests.factories import Person, accepted, make_person, new_area, register

HANG = "hang"  # a receiver's plan step: hold the request until released
LOOPBACK = (ip_network("127.0.0.0/8"),)  # where the receivers listen
pytestmark = pytest.mark.usefixtures("no_subscriptions_left")


@dataclass
class Received:
    id: str
    timestamp: str
    body: dict[str, Any]
    headers: dict[str, str]  # lowercased, as sent
    raw: bytes  # the body's bytes, as sent


@dataclass
class Receiver:
    """A webhook endpoint on loopback. It answers each request by its plan (a status
    code, or HANG) and then 200; it keeps every request whose signature verifies with
    its secret, even one it answers with an error (as if the answer were lost)."""

    secret: str = ""
    plan: list[int | str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    forged: list[dict[str, str]] = field(default_factory=list)
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.take(dict(self.headers.items()), body)
                step = receiver.plan.pop(0) if receiver.plan else 200
                if step == HANG:
                    receiver.holding.set()
                    receiver.release.wait(timeout=30)
                    step = 200
                self.send_response(int(step))
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/hook"

    def take(self, headers: dict[str, str], body: bytes) -> None:
        """Verify as the spec says a receiver does: HMAC-SHA256 keyed with the secret's
        base64-decoded bytes over `{webhook-id}.{webhook-timestamp}.{body}`."""
        headers = {k.lower(): v for k, v in headers.items()}
        message_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
        key = base64.b64decode(self.secret.removeprefix("whsec_"))
        expected = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
        given = [base64.b64decode(s.split(",", 1)[1]) for s in headers["webhook-signature"].split()
                 if s.startswith("v1,")]
        if any(hmac.compare_digest(expected, g) for g in given):
            self.received.append(Received(message_id, timestamp, json.loads(body), headers, body))
        else:
            self.forged.append(headers)

    def unique(self) -> list[Received]:
        """What a receiver acts on: the first of each webhook-id."""
        seen: dict[str, Received] = {}
        for message in self.received:
            seen.setdefault(message.id, message)
        return list(seen.values())

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def worker(runtime: Runtime, timeout: float) -> Deliverer:
    """The delivery worker, driven by hand."""
    update = {"webhook_timeout": timeout, "webhook_allowed_networks": LOOPBACK}
    return Deliverer(runtime.db, runtime.settings.model_copy(update=update))


@pytest.fixture(autouse=True)
def _receivers_allowed(app_runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app subscribes (and redelivers) to loopback: its settings allow it."""
    settings = app_runtime.settings.model_copy(update={"webhook_allowed_networks": LOOPBACK})
    monkeypatch.setattr(app_runtime, "settings", settings)
    monkeypatch.setattr(app_runtime, "webhooks", Deliverer(app_runtime.db, settings))


@pytest.fixture
def deliverer(runtime: Runtime) -> Iterator[Deliverer]:
    deliverer = worker(runtime, timeout=2.0)
    yield deliverer
    deliverer.stop()


def subscribe(person: Person, receiver: Receiver, jurisdiction: str, kinds=("events", "alerts")) -> dict[str, Any]:
    response = person.post("/api/v1/webhooks", json={"url": receiver.url, "kinds": list(kinds), "jurisdiction": jurisdiction})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    receiver.secret = created["secret"]
    return created


def deliver_until_quiet(deliverer: Deliverer, rounds: int = 30) -> None:
    """Run the worker with its clock an hour further each time, past any retry's wait,
    until a pass finds nothing to attempt."""
    now = utcnow()
    for _ in range(rounds):
        now += timedelta(hours=1)
        before = _attempts(deliverer)
        deliverer.deliver_due(now)
        if _attempts(deliverer) == before:
            return
    raise AssertionError("deliveries did not settle")


def _attempts(deliverer: Deliverer) -> int:
    with deliverer.db.reads() as session:
        return session.scalar(select(func.coalesce(func.sum(Subscription.attempts), 0))) or 0


def test_deliveries_verify_with_the_standard_webhooks_library(area, crew, integrator, receiver, deliverer):
    # What an integrator runs (the receiver above checks the same by the spec's words).
    register(crew, (area.tps[0], "BUP"))
    subscribe(integrator, receiver, area.kpu, kinds=["events"])
    kpu = crew["kpu"]
    accepted(kpu.send(kpu.scan("seal", area.item(), area.kpu, seals=["S"])))
    deliver_until_quiet(deliverer)
    [message] = receiver.received
    assert Webhook(receiver.secret).verify(message.raw, message.headers) == message.body
    with pytest.raises(WebhookVerificationError):
        Webhook(receiver.secret).verify(message.raw.replace(b'"seal"', b'"open"'), message.headers)


def test_every_event_arrives_once_and_in_order_despite_a_failing_receiver(
    client, area, crew, integrator, receiver, deliverer
):
    created = subscribe(integrator, receiver, area.kpu)
    assert created["secret"].startswith("whsec_")
    assert 24 <= len(base64.b64decode(created["secret"].removeprefix("whsec_"))) <= 32
    # Down at first: two refusals, then one it processed but whose answer was lost.
    receiver.plan = [503, 500, 500]
    register(crew, (area.tps[0], "BUP"), (area.tps[1], "BUP"))
    kpu, ppk = crew["kpu"], crew["ppk"]
    boxes = [area.item(0), area.item(1)]
    accepted(kpu.send(*[kpu.scan("seal", box, area.kpu, seals=[f"S-{n}"]) for n, box in enumerate(boxes)]))
    accepted(kpu.send(*[kpu.scan("dispatch", box, area.kpu, counterparty=area.ppk, seals=[f"S-{n}"])
                        for n, box in enumerate(boxes)]))
    accepted(ppk.send(ppk.scan("receive", boxes[0], area.ppk, counterparty=area.kpu, seals=["S-0"])))
    flagged = ppk.send(ppk.scan("receive", boxes[1], area.ppk, counterparty=area.kpu, seals=["S-X"]))
    assert flagged[0]["flags"] == ["seal_mismatch"]

    deliver_until_quiet(deliverer)

    assert receiver.forged == []
    assert len(receiver.received) > len(receiver.unique())  # a repeat was sent, and dropped
    unique = receiver.unique()
    api_events = integrator.get("/api/v1/events", params={"log": area.kpu}).json()["events"]
    sent_events = [m.body["data"] for m in unique if m.body["type"] == "custody.event"]
    assert [e["event_id"] for e in sent_events] == [e["event_id"] for e in api_events]  # once each, in log order
    entries = {e["index"]: e["leaf_hash"] for e in client.get(f"/api/v1/logs/{area.kpu}/entries").json()["entries"]}
    for sent, shown in zip(sent_events, api_events, strict=True):
        assert {k: v for k, v in sent.items() if k != "leaf_hash"} == shown  # as the events API shows it
        assert sent["leaf_hash"] == entries[sent["entry_index"]]
    api_alerts = integrator.get("/api/v1/alerts", params={"log": area.kpu}).json()["alerts"]
    sent_alerts = [m.body for m in unique if m.body["type"] == "custody.alert"]
    assert [a["data"]["id"] for a in sent_alerts] == [a["id"] for a in api_alerts]
    assert sent_alerts[0]["data"]["rule"] == "seal_mismatch"
    assert all(sent_alerts[0]["data"][k] == v for k, v in api_alerts[0].items())
    # The alert comes after the scan it flags.
    order = [m.body["data"].get("entry_index", m.body["data"].get("evidence", [None])[-1]) for m in unique]
    assert order == sorted(order)

    log = integrator.get(f"/api/v1/webhooks/{created['id']}/deliveries").json()["deliveries"]
    first = [d for d in reversed(log) if d["message_id"] == unique[0].id]
    assert [(d["attempt"], d["status_code"], d["ok"]) for d in first] == [
        (1, 503, False), (2, 500, False), (3, 500, False), (4, 200, True)
    ]
    state = integrator.get(f"/api/v1/webhooks/{created['id']}").json()
    assert (state["failures"], state["failing"]) == (0, False)
    assert "secret" not in state  # shown once


def test_a_subscription_below_the_regency_gets_only_its_area(client, area, crew, integrator, receiver, deliverer):
    register(crew, (area.tps[0], "BUP"))
    far = subscribe(integrator, receiver, area.other_pps, kinds=["events"])  # a village nothing goes to
    kpu = crew["kpu"]
    accepted(kpu.send(kpu.scan("seal", area.item(), area.kpu, seals=["S"])))
    deliver_until_quiet(deliverer)
    assert receiver.received == []
    state = integrator.get(f"/api/v1/webhooks/{far['id']}").json()
    size = {log["log"]: log["size"] for log in client.get("/api/v1/logs").json()["logs"]}[area.kpu]
    assert state["next_index"] == size  # moved past what it did not want, not read again
    near = Receiver().start()
    try:
        subscribe(integrator, near, area.pps, kinds=["events"])  # the village the box is bound for
        accepted(kpu.send(kpu.scan("dispatch", area.item(), area.kpu, counterparty=area.ppk, seals=["S"])))
        deliver_until_quiet(deliverer)
        assert [m.body["data"]["type"] for m in near.unique()] == ["dispatch"]
    finally:
        near.stop()


def test_scans_are_accepted_while_the_receiver_hangs(runtime, area, crew, integrator, receiver, deliverer):
    subscribe(integrator, receiver, area.kpu, kinds=["events"])
    register(crew, (area.tps[0], "BUP"), (area.tps[1], "BUP"))
    kpu = crew["kpu"]
    accepted(kpu.send(kpu.scan("seal", area.item(0), area.kpu, seals=["S-0"])))
    receiver.plan = [HANG]
    patient = worker(runtime, timeout=30)  # waits as long as the receiver holds on
    sending = threading.Thread(target=patient.deliver_due)
    sending.start()
    assert receiver.holding.wait(timeout=30)  # a delivery is in flight, stuck
    # The worker is not on the ingest path: scans go on being accepted.
    during = kpu.send(
        kpu.scan("seal", area.item(1), area.kpu, seals=["S-1"]),
        kpu.scan("dispatch", area.item(0), area.kpu, counterparty=area.ppk, seals=["S-0"]),
    )
    accepted(during)
    assert sending.is_alive()
    receiver.release.set()
    sending.join(timeout=30)
    patient.stop()
    deliver_until_quiet(deliverer)
    sent = [m.body["data"]["event_id"] for m in receiver.unique()]
    assert sent[-2:] == [r["event_id"] for r in during]
    assert len(sent) == 3


def test_a_dead_receiver_is_retried_with_backoff_then_marked_failing(
    runtime, area, crew, integrator, deliverer
):
    dead = Receiver().start()
    dead.stop()  # its port now refuses connections
    created = subscribe(integrator, dead, area.kpu, kinds=["events"])
    register(crew, (area.tps[0], "BUP"))
    kpu = crew["kpu"]
    accepted(kpu.send(kpu.scan("seal", area.item(), area.kpu, seals=["S"])))
    now = utcnow()
    for failures in range(1, deliverer.attempts + 1):
        assert deliverer.deliver_due(now) == 0
        with runtime.db.session() as session:
            state = session.get_one(Subscription, uuid.UUID(created["id"]))
        assert state.failures == failures and state.failing == (failures == deliverer.attempts)
        wait = (state.due_at - now).total_seconds()
        full = deliverer.failing_interval if state.failing else min(
            deliverer.backoff * 2 ** (failures - 1), deliverer.failing_interval)
        assert full / 2 <= wait <= full  # jittered, never longer
        assert deliverer.deliver_due(now) == 0  # not due again before its time
        now = state.due_at
    accepted(kpu.send(kpu.scan("store", area.item(), area.kpu)))  # still accepted
    log = integrator.get(f"/api/v1/webhooks/{created['id']}/deliveries", params={"limit": 500}).json()
    assert [d["attempt"] for d in reversed(log["deliveries"])] == list(range(1, deliverer.attempts + 1))
    assert all(d["status_code"] is None and "Connect" in d["error"] for d in log["deliveries"])


def test_a_delivery_can_be_sent_again_by_hand(area, crew, integrator, receiver, deliverer):
    created = subscribe(integrator, receiver, area.kpu, kinds=["events"])
    register(crew, (area.tps[0], "BUP"))
    kpu = crew["kpu"]
    accepted(kpu.send(*[kpu.scan("seal", area.item(), area.kpu, seals=[f"S-{n}"]) for n in range(3)]))
    deliver_until_quiet(deliverer)
    path = f"/api/v1/webhooks/{created['id']}/deliveries"
    page = integrator.get(path, params={"limit": 2}).json()
    rest = integrator.get(path, params={"limit": 2, "cursor": page["next"]}).json()
    numbers = [d["number"] for d in page["deliveries"] + rest["deliveries"]]
    assert numbers == [3, 2, 1] and rest["next"] is None
    again = integrator.post(f"{path}/1/redeliver")
    assert again.status_code == 200, again.text
    assert (again.json()["number"], again.json()["attempt"], again.json()["redelivery"]) == (4, 2, True)
    first, repeat = receiver.received[0], receiver.received[-1]
    assert (repeat.id, repeat.body) == (first.id, first.body) and receiver.forged == []
    assert integrator.post(f"{path}/99/redeliver").status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"url": "ftp://example.test/hook"}, 400),
        ({"url": "file:///etc/passwd"}, 400),
        ({"url": "javascript:alert(1)"}, 400),
        ({"url": "not a url"}, 400),
        ({"url": "http://"}, 400),
        ({"url": "https://user:pw@example.test/"}, 400),
        ({"url": "https://example.test:99999/"}, 400),
        ({"url": "https://example.test/" + "x" * 2048}, 422),
        ({"kinds": []}, 422),
        ({"kinds": ["everything"]}, 422),
        ({"jurisdiction": "Kupang"}, 400),
        ({"jurisdiction": "{kpu}.99"}, 404),
        ({"secret": "whsec_mine"}, 422),
    ],
)
def test_bad_subscriptions_are_clear_4xx(area, integrator, body, status):
    good = {"url": "https://example.test/hook", "kinds": ["events"], "jurisdiction": area.kpu}
    request = {**good, **{k: v.format(kpu=area.kpu) if isinstance(v, str) else v for k, v in body.items()}}
    response = integrator.post("/api/v1/webhooks", json=request)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_who_may_subscribe_and_read(client, runtime, area, integrator, receiver):
    other = new_area(runtime)
    people = {
        "kpu": make_person(client, runtime, Role.KPU, area.kpu),
        "admin": make_person(client, runtime, Role.ADMIN, ""),
        "colleague": make_person(client, runtime, Role.INTEGRATOR, area.kpu, scopes=SCOPES),
        "outsider": make_person(client, runtime, Role.INTEGRATOR, other.kpu, scopes=SCOPES),
        "kpu-B": make_person(client, runtime, Role.KPU, other.kpu),
        "unscoped": make_person(client, runtime, Role.INTEGRATOR, area.kpu,
                                scopes=frozenset({"events:read", "alerts:read"})),
        "events-only": make_person(client, runtime, Role.INTEGRATOR, area.kpu,
                                   scopes=frozenset({"webhooks:manage", "events:read"})),
        **{role.value: make_person(client, runtime, role, area.kpu)
           for role in (Role.AUDITOR, Role.ESCORT)},
        "ppk": make_person(client, runtime, Role.PPK, area.ppk),
    }
    mine = subscribe(integrator, receiver, area.ppk)
    one = f"/api/v1/webhooks/{mine['id']}"

    def status(who: str, method: str, path: str, **kwargs: Any) -> int:
        person = people.get(who) or integrator
        headers = person.headers if who != "anonymous" else {}
        return client.request(method, path, headers=headers, **kwargs).status_code

    def body(kinds: list[str], where: str = area.kpu) -> dict[str, Any]:
        return {"json": {"url": receiver.url, "kinds": kinds, "jurisdiction": where}}

    assert status("outsider", "POST", "/api/v1/webhooks", **body(["events"])) == 403
    assert status("kpu-B", "POST", "/api/v1/webhooks", **body(["events"])) == 403
    assert status("outsider", "POST", "/api/v1/webhooks", **body(["events"], other.kpu)) == 201
    assert status("unscoped", "POST", "/api/v1/webhooks", **body(["events"])) == 403
    assert status("events-only", "POST", "/api/v1/webhooks", **body(["events", "alerts"])) == 403
    assert status("events-only", "POST", "/api/v1/webhooks", **body(["events"])) == 201
    assert status("kpu", "POST", "/api/v1/webhooks", **body(["alerts"], area.ppk)) == 201
    assert status("admin", "POST", "/api/v1/webhooks", **body(["alerts"])) == 201
    for role in ("auditor", "escort", "ppk"):
        assert status(role, "POST", "/api/v1/webhooks", **body(["events"], area.ppk)) == 403
        assert status(role, "GET", one) == 403
    for who in ("outsider", "colleague"):  # another's subscription is not theirs to see
        assert status(who, "GET", one) == 404
        assert status(who, "GET", f"{one}/deliveries") == 404
        assert status(who, "DELETE", one) == 404
    assert status("kpu-B", "GET", one) == 403
    assert status("anonymous", "GET", one) == 401
    assert status("kpu", "GET", one) == 200 and status("admin", "GET", f"{one}/deliveries") == 200

    def listed(who: str) -> set[str]:
        response = client.get("/api/v1/webhooks", headers=(people.get(who) or integrator).headers)
        assert response.status_code == 200, response.text
        return {w["jurisdiction"] for w in response.json()["webhooks"]}

    assert listed("integrator") == {area.ppk}
    assert listed("kpu") == {area.kpu, area.ppk}
    assert listed("kpu-B") == {other.kpu}
    assert listed("colleague") == set()
    assert status("integrator", "DELETE", one) == 204
    assert status("integrator", "GET", one) == 404
