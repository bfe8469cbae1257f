"""Webhooks go to public addresses only: a subscription to loopback, a private network,
link-local (the cloud metadata service) or a URL with a tab is refused with a clear
400; JEJAK_WEBHOOK_ALLOWED_NETWORKS opens networks; a name that resolves elsewhere at
delivery (DNS rebinding) is checked again and not sent to; one subscription's failure
holds up no other's; deliveries say they come from Jejak."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import update

from models.accounts.actor import Role
from models.core.errors import InvalidRequest
from models.core.settings import Settings
from models.runtime import Runtime
from models.webhooks.delivery import Deliverer
from models.webhooks.destinations import Destinations
from models.webhooks.subscriptions import Subscription
from tests.factories import Area, Person, Phone, make_person

LOOPBACK = (ip_network("127.0.0.0/8"),)
PUBLIC = "93.184.215.14"  # an address on the internet
pytestmark = pytest.mark.usefixtures("no_subscriptions_left")


class Receiver:
    """An HTTP endpoint on loopback (HTTPS with `tls`) that answers 200 and keeps each
    request's headers."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.headers: list[dict[str, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                self.rfile.read(int(self.headers["content-length"]))
                receiver.headers.append({k.lower(): v for k, v in self.headers.items()})
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.stop()


def allow(app_runtime: Runtime, monkeypatch: pytest.MonkeyPatch, networks: tuple[Any, ...]) -> None:
    """The app's settings, with these networks open to webhooks."""
    settings = app_runtime.settings.model_copy(update={"webhook_allowed_networks": networks})
    monkeypatch.setattr(app_runtime, "settings", settings)


def worker(runtime: Runtime, networks: tuple[Any, ...] = ()) -> Deliverer:
    return Deliverer(runtime.db, runtime.settings.model_copy(update={"webhook_allowed_networks": networks}))


def fake_dns(monkeypatch: pytest.MonkeyPatch, name: str, address: str) -> None:
    """From now on `name` resolves to `address`, for everything in this process."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        asked = host.decode() if isinstance(host, bytes) else host
        return real(address if asked == name else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def subscribe(person: Person, url: str, jurisdiction: str) -> Any:
    return person.post("/api/v1/webhooks", json={"url": url, "kinds": ["events"], "jurisdiction": jurisdiction})


def an_event(client, runtime: Runtime, area: Area) -> None:
    """One custody event in the area's log: a box sealed at the KPU."""
    kpu = Phone(make_person(client, runtime, Role.KPU, area.kpu)).register()
    body = {"items": [{"kind": "kotak_suara", "destination": area.tps[0], "code": "BUP", "contest": "BUP"}]}
    assert kpu.person.post("/api/v1/items", json=body).status_code == 201
    [result] = kpu.send(kpu.scan("seal", area.item(), area.kpu, seals=["S"]))
    assert result["status"] == "accepted", result


def deliveries(person: Person, subscription_id: str) -> list[dict[str, Any]]:
    response = person.get(f"/api/v1/webhooks/{subscription_id}/deliveries")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["deliveries"]
    return found


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://127.0.0.1:8080/hook", "127.0.0.1 is a loopback address: webhooks go to public addresses only"),
        ("http://[::1]/hook", "::1 is a loopback address"),
        ("http://localhost/hook", "localhost resolves to 127.0.0.1, a loopback address"),
        ("http://127.1:9/hook", "127.1 resolves to 127.0.0.1, a loopback address"),
        ("https://10.0.0.1/hook", "10.0.0.1 is a private address"),
        ("https://[fd00::1]/hook", "fd00::1 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://[::ffff:127.0.0.1]/hook", "::ffff:127.0.0.1 is a loopback address"),
        ("http://0.0.0.0:5432/", "0.0.0.0 is an unspecified address"),
        ("http://100.64.0.1/hook", "100.64.0.1 is a shared (carrier-grade NAT) address"),
        ("http://224.0.0.1/hook", "224.0.0.1 is a multicast address"),
    ],
)
def test_a_subscription_inside_the_network_is_refused(area, integrator, url, said):
    response = subscribe(integrator, url, area.kpu)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert said in response.json()["detail"]


@pytest.mark.parametrize("url", ["https://example.test/ho\tok", "https://example.test/\nhook"])
def test_a_url_with_a_control_character_is_refused(area, integrator, url):
    """Free text everywhere refuses control characters (models/core/inputs.py): the URL too."""
    response = subscribe(integrator, url, area.kpu)
    assert response.status_code == 422, response.text
    assert "control character" in response.json()["detail"]


def test_the_allowed_networks_setting_opens_networks(monkeypatch, app_runtime, area, integrator):
    monkeypatch.setenv("JEJAK_WEBHOOK_ALLOWED_NETWORKS", "10.20.0.0/16, 127.0.0.0/8")
    allow(app_runtime, monkeypatch, Settings().webhook_allowed_networks)
    for url in ("https://10.20.3.4/hook", "http://127.0.0.1:8080/hook", "http://localhost:8080/hook"):
        assert subscribe(integrator, url, area.kpu).status_code == 201, url
    for url in ("https://10.21.0.1/hook", "http://169.254.169.254/"):  # the rest stays shut
        assert subscribe(integrator, url, area.kpu).status_code == 400, url


def test_a_name_that_resolves_inside_at_delivery_is_not_sent_to(
    monkeypatch, client, runtime, area, integrator, receiver
):
    fake_dns(monkeypatch, "rebind.example", PUBLIC)
    made = subscribe(integrator, f"http://rebind.example:{receiver.port}/hook", area.kpu)
    assert made.status_code == 201, made.text
    an_event(client, runtime, area)
    fake_dns(monkeypatch, "rebind.example", "127.0.0.1")  # where the receiver listens
    deliverer = worker(runtime)
    try:
        assert deliverer.deliver_due() == 0
    finally:
        deliverer.stop()
    assert receiver.headers == []
    [attempt] = deliveries(integrator, made.json()["id"])
    assert attempt["status_code"] is None and not attempt["ok"]
    assert attempt["error"].startswith("rebind.example resolves to 127.0.0.1, a loopback address")


def test_one_failing_subscription_holds_up_no_other(client, runtime, app_runtime, monkeypatch, area, integrator):
    allow(app_runtime, monkeypatch, LOOPBACK)
    first, second = Receiver(), Receiver()
    try:
        broken = subscribe(integrator, f"http://127.0.0.1:{first.port}/hook", area.kpu).json()["id"]
        fine = subscribe(integrator, f"http://127.0.0.1:{second.port}/hook", area.kpu).json()["id"]
        # A URL from before the rule, with a tab in it; first in the queue.
        with runtime.db.session(write=True) as session:
            session.execute(
                update(Subscription)
                .where(Subscription.id == uuid.UUID(broken))
                .values(url=f"http://127.0.0.1:{first.port}/ho\tok")
            )
        an_event(client, runtime, area)
        deliverer = worker(runtime, LOOPBACK)
        try:
            assert deliverer.deliver_due() == 1
        finally:
            deliverer.stop()
        assert first.headers == [] and len(second.headers) == 1
        [failed] = deliveries(integrator, broken)
        assert "control characters" in failed["error"]
        assert [d["ok"] for d in deliveries(integrator, fine)] == [True]
    finally:
        first.stop()
        second.stop()


def test_deliveries_name_jejak_and_the_receivers_host(monkeypatch, client, runtime, app_runtime, area, integrator, receiver):
    allow(app_runtime, monkeypatch, LOOPBACK)
    fake_dns(monkeypatch, "receiver.example", "127.0.0.1")
    assert subscribe(integrator, f"http://receiver.example:{receiver.port}/hook", area.kpu).status_code == 201
    an_event(client, runtime, area)
    deliverer = worker(runtime, LOOPBACK)
    try:
        assert deliverer.deliver_due() == 1
    finally:
        deliverer.stop()
    [headers] = receiver.headers
    assert headers["user-agent"] == f"Jejak-Webhooks/{version('jejak')} (+{runtime.settings.public_url})"
    assert headers["host"] == f"receiver.example:{receiver.port}"


def certificate(directory: Path, name: str) -> tuple[ssl.SSLContext, Path]:
    """A self-signed certificate for `name`: a server context that presents it, and the
    file a client that trusts it names in SSL_CERT_FILE."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    return server, cert_file


def test_https_goes_to_the_checked_address_and_checks_the_certificate_for_the_name(
    monkeypatch, tmp_path, client, runtime, app_runtime, area, integrator
):
    tls, trusted = certificate(tmp_path, "receiver.example")
    monkeypatch.setenv("SSL_CERT_FILE", str(trusted))
    allow(app_runtime, monkeypatch, LOOPBACK)
    fake_dns(monkeypatch, "receiver.example", "127.0.0.1")
    fake_dns(monkeypatch, "impostor.example", "127.0.0.1")  # the same server, not its name
    receiver = Receiver(tls)
    try:
        made = {name: subscribe(integrator, f"https://{name}:{receiver.port}/hook", area.kpu).json()["id"]
                for name in ("receiver.example", "impostor.example")}
        an_event(client, runtime, area)
        deliverer = worker(runtime, LOOPBACK)
        try:
            assert deliverer.deliver_due() == 1
        finally:
            deliverer.stop()
        [headers] = receiver.headers
        assert headers["host"] == f"receiver.example:{receiver.port}"
        [refused] = deliveries(integrator, made["impostor.example"])
        assert "CERTIFICATE_VERIFY_FAILED" in refused["error"]
    finally:
        receiver.stop()


def test_production_takes_https_only():
    with pytest.raises(InvalidRequest, match="https:// with a host name"):
        Destinations(https_only=True).check_url("http://silog.example/jejak")
    assert Destinations(https_only=True).check_url("https://silog.example/jejak").host == "silog.example"


def test_the_allowed_networks_setting_refuses_what_is_not_a_network():
    with pytest.raises(ValueError, match="'10.0.0.300/8' is not a network"):
        Settings(webhook_allowed_networks="10.0.0.0/8, 10.0.0.300/8")
    assert Settings(webhook_allowed_networks="fd00::/8").webhook_allowed_networks == (ip_network("fd00::/8"),)
