"""The audit trail: every administrative action recorded (accounts, devices, webhooks,
alert acknowledgements), read by administrators and auditors in their jurisdiction,
newest first and paged, and append-only in the database itself."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from models.accounts import trail
from models.accounts.actor import Role
from scripts.cli import main
from tests.factories import Phone, make_person


@pytest.fixture(scope="module")
def district_auditor(client, runtime, world):
    """An auditor of A's district (Panwascam)."""
    return make_person(client, runtime, Role.AUDITOR, world.a.ppk)


def records(person, **params) -> list[dict]:
    response = person.get("/api/v1/audit", params=params)
    assert response.status_code == 200, response.text
    return response.json()["records"]


def test_accounts_made_anywhere_are_recorded(world, cli_env, monkeypatch):
    a, b, people = world
    (made,) = records(people["admin"], action="user.create", target=people["ppk"].username)
    assert (made["actor_id"], made["jurisdiction"], made["details"]["role"]) == (None, a.ppk, "ppk")
    assert made["details"]["id"] == str(people["ppk"].id) and "password" not in str(made).lower()
    # On the command line too (`jejak user add`), by no one signed in.
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough secret\n"))
    args = ["user", "add", "--username", "cli.audited", "--role", "auditor", "--jurisdiction", b.kpu]
    assert main([*args, "--password-stdin"]) == 0
    assert main(["user", "unlock", "cli.audited"]) == 0
    found = records(people["auditor-B"], target="cli.audited")
    assert [(r["action"], r["actor_id"]) for r in found] == [("user.unlock", None), ("user.create", None)]


def test_devices_registered_and_revoked_are_recorded(world):
    a, b, people = world
    phone = Phone(people["ppk"]).register()
    target = f"{a.kpu}/{phone.id}"
    revoked = people["kpu"].post(f"/api/v1/devices/{a.kpu}/{phone.id}/revoke")
    assert revoked.status_code == 200, revoked.text
    revoke, register = records(people["auditor"], target=target)
    assert (register["action"], register["actor_id"], register["jurisdiction"]) == (
        "device.register", str(people["ppk"].id), a.ppk,
    )  # fmt: skip
    assert register["details"]["index"] == revoked.json()["registered_index"]
    assert (revoke["action"], revoke["actor_id"], revoke["actor_role"]) == ("device.revoke", str(people["kpu"].id), "kpu")
    assert revoke["details"] == {"name": "hp", "owner": str(people["ppk"].id), "index": revoked.json()["revoked_index"]}


def test_webhooks_subscribed_and_deleted_are_recorded(world, district_auditor):
    a, b, people = world
    body = {"url": "https://silog.example/hook?token=s3cret", "kinds": ["events"], "jurisdiction": a.ppk}
    made = people["integrator"].post("/api/v1/webhooks", json=body)
    assert made.status_code == 201, made.text
    webhook = made.json()["id"]
    assert people["kpu"].client.delete(f"/api/v1/webhooks/{webhook}", headers=people["kpu"].headers).status_code == 204
    deleted, subscribed = records(district_auditor, target=webhook)
    assert (subscribed["action"], subscribed["actor_id"]) == ("webhook.subscribe", str(people["integrator"].id))
    assert (deleted["action"], deleted["actor_id"]) == ("webhook.delete", str(people["kpu"].id))
    # Where it sends, never a secret a receiver put in its URL's query.
    assert subscribed["details"]["url"] == "https://silog.example/hook"
    assert "s3cret" not in str(subscribed)


def test_alert_acknowledgements_are_recorded(world):
    a, b, people = world
    ppk = Phone(people["ppk"]).register()
    box = a.item(1)
    body = {"items": [{"kind": "kotak_suara", "destination": a.tps[1], "code": "BUP"}]}
    assert people["kpu"].post("/api/v1/items", json=body).status_code == 201
    ppk.send(ppk.scan("receive", box, a.ppk, counterparty=a.kpu))  # nothing was dispatched
    (alert,) = people["ppk"].get("/api/v1/alerts", params={"item": box, "rule": "no_dispatch"}).json()["alerts"]
    # The KPU, not the PPK who made the flagged scan (tests/test_alert_ack_rules.py).
    acked = people["kpu"].post(f"/api/v1/alerts/{alert['id']}/ack", json={"reason": "dispatch scanned offline"})
    assert acked.status_code == 200, acked.text
    (record,) = records(people["auditor"], action="alert.ack", target=alert["id"])
    assert record["actor_id"] == str(people["kpu"].id) and record["jurisdiction"] == a.ppk
    assert record["details"] == {"log": a.kpu, "rule": "no_dispatch", "reason": "dispatch scanned offline",
                                 "index": acked.json()["ack_index"]}  # fmt: skip


def test_only_admins_and_auditors_read_it_each_in_their_jurisdiction(client, world, district_auditor, runtime):
    a, b, people = world
    with runtime.db.session(write=True) as session:
        trail.record(session, None, "key.rotate", f"log {a.kpu}", {"retired": "k1"}, jurisdiction=a.kpu)
        trail.record(session, None, "key.rotate", f"log {b.kpu}", {"retired": "k2"}, jurisdiction=b.kpu)
    targets = lambda person: {r["target"] for r in records(person, action="key.rotate")}  # noqa: E731
    assert {f"log {a.kpu}", f"log {b.kpu}"} <= targets(people["admin"])
    assert f"log {a.kpu}" in targets(people["auditor"]) and f"log {b.kpu}" not in targets(people["auditor"])
    assert f"log {b.kpu}" in targets(people["auditor-B"]) and f"log {a.kpu}" not in targets(people["auditor-B"])
    assert f"log {a.kpu}" not in targets(district_auditor)  # the regency's keys are above a district
    for who in ("kpu", "ppk", "integrator"):
        response = people[who].get("/api/v1/audit")
        assert response.status_code == 403, f"{who}: {response.text}"
    assert client.get("/api/v1/audit").status_code == 401


def test_pages_run_newest_first_without_repeats(world, runtime):
    a, b, people = world
    with runtime.db.session(write=True) as session:
        for n in range(7):
            trail.record(session, None, "user.lock", f"paged.{n}", {}, jurisdiction=b.ppk)
    seen, cursor = [], None
    while True:
        page = people["auditor-B"].get(
            "/api/v1/audit", params={"action": "user.lock", "limit": 3, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [r["target"] for r in page["records"] if r["target"].startswith("paged.")]
        if not (cursor := page["next"]):
            break
    assert seen == [f"paged.{n}" for n in reversed(range(7))]
    assert people["auditor-B"].get("/api/v1/audit", params={"cursor": "bm90IG91cnM="}).status_code == 400


def test_the_trail_cannot_be_changed_or_deleted(runtime):
    with runtime.db.session(write=True) as session:
        trail.record(session, None, "user.create", "immutable.one", {})
    for statement in ("UPDATE audit_trail SET target = 'someone.else'", "DELETE FROM audit_trail"):
        with pytest.raises(DBAPIError, match="append-only"), runtime.db.session(write=True) as session:
            session.execute(text(statement))
    if runtime.db.engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), runtime.db.session(write=True) as session:
            session.execute(text("TRUNCATE audit_trail"))
