"""Onboarding officers at scale (README "Onboarding officers"): a CSV imported whole or
not at all, idempotent; one-time enrollment codes that enroll one phone once; delegated
administration within one's area and below one's role; the end of an election period;
personal data kept out of the log and the audit trail."""

from __future__ import annotations

import base64
import io
import uuid
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pypdf import PdfReader
from sqlalchemy import select, update

from api.limits import PerClientRate
from models.accounts.actor import Role
from models.accounts.enrollment import Enrollment
from models.accounts.trail import AuditRecord
from models.core.base import utcnow
from models.log.tables import LogEntry
from tests.factories import Person, Phone, make_person
from tests.helpers import rasterize, read_qr

HEADER = "name,role,jurisdiction,nik,nrp,phone\n"


def nik() -> str:
    return f"53{uuid.uuid4().int % 10**14:014d}"


def nrp() -> str:
    return f"{uuid.uuid4().int % 10**8:08d}"


def csv_of(area, *, pps_nik: str | None = None, escort_nrp: str | None = None) -> str:
    return HEADER + (
        f"Maria Lake,pps,{area.pps},{pps_nik or nik()},,081234567890\n"
        f"Yohanes Bria,kpps,{area.tps[0]},{nik()},,+62 812-9876-5432\n"
        f"Bripka Tallo,escort,{area.kpu},,{escort_nrp or nrp()},6281311112222\n"
    )


def do_import(person: Person, text: str, **params):
    return person.client.post(
        "/api/v1/users/import", content=text.encode(), params=params,
        headers={**person.headers, "Content-Type": "text/csv"},
    )


def public_key(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.public_key().public_bytes_raw()).decode()


def enroll(client, code: str, key: Ed25519PrivateKey | None = None, password: str = "kata sandi rahasia"):
    body = {"code": code, "password": password, "name": "HP"}
    if key is not None:
        body["public_key"] = public_key(key)
    return client.post("/api/v1/enroll", json=body)


@pytest.fixture
def kpu(client, runtime, area) -> Person:
    return make_person(client, runtime, Role.KPU, area.kpu)


@pytest.fixture
def ppk(client, runtime, area) -> Person:
    return make_person(client, runtime, Role.PPK, area.ppk)


def test_an_import_creates_accounts_with_codes_and_no_passwords(client, kpu, area):
    response = do_import(kpu, csv_of(area), period="pemilu-2029")
    assert response.status_code == 200, response.text
    created = response.json()["created"]
    assert [(c["role"], c["jurisdiction"]) for c in created] == [
        ("pps", area.pps), ("kpps", area.tps[0]), ("escort", area.kpu)
    ]
    assert created[0]["username"] == f"pps.{area.pps}.1"
    assert len({c["code"] for c in created}) == 3
    # No password signs in before the officer enrolls.
    signed = client.post("/api/v1/auth/token", data={"username": created[0]["username"], "password": "!enroll"})
    assert signed.status_code == 400 and signed.json()["error"] == "invalid_grant"


def test_an_import_is_judged_whole_and_lists_every_rows_error(client, kpu, area):
    text = HEADER + (
        f"Maria Lake,pps,{area.pps},{nik()},,081234567890\n"  # fine
        f",kpps,{area.tps[0]},123,,0812\n"  # no name, bad NIK, bad phone
        f"Ani,kpu-ish,{area.pps},{nik()},,081234567890\n"  # unknown role
        f"Budi,kpps,{area.pps},{nik()},,081234567890\n"  # a KPPS works at a TPS
        f"Bripka Tallo,escort,{area.kpu},,,081234567890\n"  # no NRP
        f"Carla,pps,{area.kpu}.99.9999,{nik()},,081234567890\n"  # no such site
    )
    response = do_import(kpu, text)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = {(e["row"], e["field"]) for e in response.json()["errors"]}
    assert errors == {(3, "name"), (3, "nik"), (3, "phone"), (4, "role"), (5, "jurisdiction"), (6, "nrp"),
                      (7, "jurisdiction")}  # fmt: skip
    listed = kpu.get(f"/api/v1/users?within={area.pps}").json()["accounts"]
    assert listed == [], "one wrong row creates nothing"


def test_the_same_file_twice_changes_nothing(client, kpu, area):
    text = csv_of(area)
    first = do_import(kpu, text, period="pemilu-2029").json()
    again = do_import(kpu, text, period="pemilu-2029")
    assert again.status_code == 200
    assert again.json()["created"] == []
    assert [u["username"] for u in again.json()["unchanged"]] == [c["username"] for c in first["created"]]
    # The same NIK with other details is an error, not a silent change.
    changed = text.replace("Maria Lake", "Maria Lake-Seran")
    refused = do_import(kpu, changed, period="pemilu-2029")
    assert refused.status_code == 422 and "already account" in refused.json()["errors"][0]["message"]


def test_a_dry_run_creates_nothing(kpu, area):
    dry = do_import(kpu, csv_of(area), dry_run="true")
    assert dry.status_code == 200 and len(dry.json()["created"]) == 3
    assert all(c["code"] is None for c in dry.json()["created"])
    assert kpu.get(f"/api/v1/users?within={area.kpu}").json()["accounts"] == []


def test_a_duplicate_within_the_file_is_refused(kpu, area):
    same = nik()
    text = HEADER + f"A,pps,{area.pps},{same},,081234567890\nB,kpps,{area.tps[0]},{same},,081234567891\n"
    response = do_import(kpu, text)
    assert response.status_code == 422
    assert {e["row"] for e in response.json()["errors"]} == {2, 3}


def test_a_ppk_imports_only_its_district_and_roles_below_it(client, runtime, ppk, area, other_district):
    for text, words in [
        (HEADER + f"X,pps,{other_district.pps},{nik()},,081234567890\n", "outside your jurisdiction"),
        (HEADER + f"X,ppk,{area.ppk},{nik()},,081234567890\n", "manages only"),
        (HEADER + f"X,escort,{area.ppk},,{nrp()},081234567890\n", "manages only"),
    ]:
        response = do_import(ppk, text)
        assert response.status_code == 403, response.text
        assert words in response.json()["errors"][0]["message"]
    ok = do_import(ppk, HEADER + f"X,kpps,{area.tps[1]},{nik()},,081234567890\n")
    assert ok.status_code == 200, ok.text


def test_a_code_enrolls_one_phone_once(client, kpu, area):
    (pps, *_) = do_import(kpu, csv_of(area)).json()["created"]
    key = Ed25519PrivateKey.generate()
    enrolled = enroll(client, pps["code"], key)
    assert enrolled.status_code == 201, enrolled.text
    body = enrolled.json()
    assert (body["username"], body["log_id"]) == (pps["username"], area.kpu) and body["device"]
    # The phone's key is in the log, by the officer: it scans at once.
    officer = Person(client, pps["username"], Role.PPS, area.pps, uuid.uuid4(), body["access_token"])
    phone = Phone(officer, key, body["device"])
    kpu.post("/api/v1/items", json={"items": [{"kind": "kotak_suara", "destination": area.tps[0], "code": "BUP"}]})
    (result,) = phone.send(phone.scan("incident", area.item(), area.pps, incident="wet", reason="uji"))
    assert result["status"] == "accepted", result
    # Spent: a second phone reading the same QR is refused, and so is a wrong code.
    again = enroll(client, pps["code"], Ed25519PrivateKey.generate())
    assert again.status_code == 410 and again.json()["code"] == "code_spent"
    unknown = enroll(client, "A" * 24, Ed25519PrivateKey.generate())
    assert unknown.status_code == 410 and unknown.json()["code"] == "code_unknown"
    # The password the officer chose signs in.
    signed = client.post("/api/v1/auth/token", data={"username": pps["username"], "password": "kata sandi rahasia"})
    assert signed.status_code == 200


def test_a_bad_request_does_not_spend_the_code(client, kpu, area):
    (pps, *_) = do_import(kpu, csv_of(area)).json()["created"]
    assert enroll(client, pps["code"], None).status_code == 400  # a scanning officer's phone sends its key
    assert enroll(client, pps["code"], Ed25519PrivateKey.generate(), password="pendek").status_code == 422
    assert enroll(client, pps["code"], Ed25519PrivateKey.generate()).status_code == 201


def test_expired_and_revoked_codes_enroll_nothing(client, runtime, kpu, area):
    first, second, _ = do_import(kpu, csv_of(area)).json()["created"]
    with runtime.db.session(write=True) as session:
        session.execute(
            update(Enrollment).where(Enrollment.user_id == _user_id(runtime, first["username"]))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    expired = enroll(client, first["code"], Ed25519PrivateKey.generate())
    assert expired.status_code == 410 and expired.json()["code"] == "code_expired"
    assert kpu.post(f"/api/v1/users/{second['username']}/enrollment/revoke").json()["revoked"] == 1
    revoked = enroll(client, second["code"], Ed25519PrivateKey.generate())
    assert revoked.status_code == 410 and revoked.json()["code"] == "code_revoked"
    # Reissued: the new code works, the old one stays refused.
    fresh = kpu.post(f"/api/v1/users/{second['username']}/reset").json()["code"]
    assert enroll(client, fresh, Ed25519PrivateKey.generate()).status_code == 201


def test_a_new_phone_revokes_the_first_by_default(client, kpu, area):
    (pps, *_) = do_import(kpu, csv_of(area)).json()["created"]
    first = enroll(client, pps["code"], Ed25519PrivateKey.generate()).json()
    code = kpu.post(f"/api/v1/users/{pps['username']}/reset").json()["code"]
    # The reset ends the tokens the first phone held.
    assert client.get("/api/v1/devices", headers={"Authorization": f"Bearer {first['access_token']}"}).status_code == 401
    second = enroll(client, code, Ed25519PrivateKey.generate()).json()
    assert second["revoked_devices"] == [first["device"]]
    mine = client.get("/api/v1/devices", headers={"Authorization": f"Bearer {second['access_token']}"}).json()
    assert {d["id"]: d["revoked_at"] is not None for d in mine} == {first["device"]: True, second["device"]: False}


def test_a_kept_first_phone_when_the_kpu_says_so(client, app_runtime, kpu, area, monkeypatch):
    monkeypatch.setattr(app_runtime.settings, "enroll_second_phone", "keep")
    (pps, *_) = do_import(kpu, csv_of(area)).json()["created"]
    enroll(client, pps["code"], Ed25519PrivateKey.generate())
    code = kpu.post(f"/api/v1/users/{pps['username']}/reset").json()["code"]
    assert enroll(client, code, Ed25519PrivateKey.generate()).json()["revoked_devices"] == []


def test_a_ppk_manages_its_district_below_its_role(client, runtime, ppk, kpu, area, other_district):
    created = do_import(kpu, csv_of(area)).json()["created"]
    pps = created[0]["username"]
    escort = created[2]["username"]
    other = make_person(client, runtime, Role.PPS, other_district.pps)
    peer = make_person(client, runtime, Role.PPK, area.ppk)
    for action in ("disable", "reset", "unlock"):
        assert ppk.post(f"/api/v1/users/{pps}/{action}").status_code == 200, action
    assert ppk.post(f"/api/v1/users/{pps}/enable").status_code == 200
    for target, words in [
        (other.username, "outside your jurisdiction"),
        (peer.username, "manages only"),
        (kpu.username, "outside your jurisdiction"),
        (escort, "outside your jurisdiction"),  # the regency's Polres
    ]:
        for action in ("disable", "reset"):
            refused = ppk.post(f"/api/v1/users/{target}/{action}")
            assert refused.status_code == 403 and words in refused.json()["detail"], (target, refused.text)
    listed = {a["username"] for a in ppk.get("/api/v1/users").json()["accounts"]}
    assert pps in listed and other.username not in listed and escort not in listed and peer.username not in listed


def test_disabling_ends_the_enrolled_phones_tokens(client, kpu, area):
    (pps, *_) = do_import(kpu, csv_of(area)).json()["created"]
    token = enroll(client, pps["code"], Ed25519PrivateKey.generate()).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/devices", headers=headers).status_code == 200
    assert kpu.post(f"/api/v1/users/{pps['username']}/disable").status_code == 200
    refused = client.get("/api/v1/devices", headers=headers)
    assert refused.status_code == 401 and "disabled" in refused.json()["detail"]


def test_the_end_of_an_election_period(client, runtime, kpu, area):
    created = do_import(kpu, csv_of(area), period="pilkada-2031").json()["created"]
    token = enroll(client, created[0]["code"], Ed25519PrivateKey.generate()).json()["access_token"]
    staying = make_person(client, runtime, Role.PPS, area.pps)  # not of the period
    dry = kpu.post("/api/v1/users/periods/pilkada-2031/disable")
    assert dry.status_code == 200 and dry.json()["dry_run"] is True
    assert sorted(dry.json()["accounts"]) == sorted(c["username"] for c in created)
    assert client.get("/api/v1/devices", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    done = kpu.post("/api/v1/users/periods/pilkada-2031/disable?dry_run=false")
    assert sorted(done.json()["accounts"]) == sorted(c["username"] for c in created)
    assert client.get("/api/v1/devices", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert enroll(client, created[1]["code"], Ed25519PrivateKey.generate()).status_code == 410
    assert staying.get("/api/v1/devices").status_code == 200
    assert kpu.post("/api/v1/users/periods/pilkada-2031/disable").json()["accounts"] == []


def test_personal_data_stays_out_of_the_log_and_the_trail(client, runtime, kpu, area):
    pps_nik, escort_nrp = nik(), nrp()
    created = do_import(kpu, csv_of(area, pps_nik=pps_nik, escort_nrp=escort_nrp)).json()["created"]
    enroll(client, created[0]["code"], Ed25519PrivateKey.generate())
    kpu.post(f"/api/v1/users/{created[1]['username']}/reset")
    secrets = [pps_nik, "Maria Lake", "Yohanes", "+6281234567890", "81234567890", created[1]["code"]]
    with runtime.db.reads() as session:
        trail = " ".join(str((r.target, r.details)) for r in session.scalars(select(AuditRecord)))
    with runtime.databases.for_log(area.kpu).reads() as session:
        log = " ".join(e.data.decode() for e in session.scalars(select(LogEntry).where(LogEntry.log_id == area.kpu)))
    for secret in secrets:
        assert secret not in trail and secret not in log, secret
    # Shown to the area's administrators, and to the officer's own export.
    listed = kpu.get(f"/api/v1/users?search={pps_nik}").json()["accounts"]
    assert [(a["full_name"], a["nik"], a["enrolled"]) for a in listed] == [("Maria Lake", pps_nik, True)]


def test_one_exports_ones_own_data_and_changes_ones_password(client, kpu, area):
    (pps, *_) = do_import(kpu, csv_of(area)).json()["created"]
    token = enroll(client, pps["code"], Ed25519PrivateKey.generate()).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    mine = client.get("/api/v1/me", headers=headers).json()
    assert mine["account"]["full_name"] == "Maria Lake" and len(mine["phones"]) == 1
    assert {"user.create", "user.enroll"} <= {r["action"] for r in mine["audit"]}
    wrong = client.post("/api/v1/me/password", json={"current": "nope", "new": "sandi yang baru sekali"}, headers=headers)
    assert wrong.status_code == 403
    changed = client.post(
        "/api/v1/me/password", json={"current": "kata sandi rahasia", "new": "sandi yang baru sekali"}, headers=headers
    )
    assert changed.status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401  # its old token ended
    signed = client.post("/api/v1/auth/token", data={"username": pps["username"], "password": "sandi yang baru sekali"})
    assert signed.status_code == 200


def test_the_enrollment_sheet_issues_the_only_valid_codes(client, kpu, area):
    created = do_import(kpu, csv_of(area)).json()["created"]
    sheet = kpu.post(f"/api/v1/users/enrollment-sheet?site={area.ppk}")
    assert sheet.status_code == 200 and sheet.content.startswith(b"%PDF")
    # Printing reissued the codes of the district's officers (PPS, KPPS; not the regency's escort).
    for officer in created[:2]:
        assert enroll(client, officer["code"], Ed25519PrivateKey.generate()).status_code == 410
    assert enroll(client, created[2]["code"], Ed25519PrivateKey.generate()).status_code == 201


def _user_id(runtime, username: str) -> uuid.UUID:
    from models.accounts.users import User

    with runtime.db.reads() as session:
        return session.scalar(select(User.id).where(User.username == username))


def test_import_print_enroll_scan_disable(client, app_runtime, kpu, ppk, area):
    """The whole path: the KPU imports the district's officers, the PPK prints its
    sheet, a KPPS phone reads its QR off the paper and enrolls, scans a box, the PPK
    disables the account, and the phone's token is refused."""
    created = do_import(kpu, csv_of(area), period="pemilu-2029").json()["created"]
    kpps = created[1]["username"]
    sheet = ppk.post(f"/api/v1/users/enrollment-sheet?site={area.ppk}")
    assert sheet.status_code == 200
    urls = [code.text for code in read_qr(rasterize(sheet.content, 0, dpi=150))]
    assert len(urls) == 2 and all(url.startswith(f"{app_runtime.settings.public_url}/enroll#") for url in urls)
    page = PdfReader(io.BytesIO(sheet.content)).pages[0].extract_text()
    assert kpps in page and "Yohanes Bria" in page
    # Each officer's phone reads its own card.
    keys = {url: Ed25519PrivateKey.generate() for url in urls}
    answers = {url: enroll(client, url.split("#", 1)[1], keys[url]) for url in urls}
    assert all(answer.status_code == 201 for answer in answers.values())
    (url,) = [url for url, answer in answers.items() if answer.json()["username"] == kpps]
    key, body = keys[url], answers[url].json()
    officer = Person(client, kpps, Role.KPPS, area.tps[0], uuid.uuid4(), body["access_token"])
    phone = Phone(officer, key, body["device"])
    kpu.post("/api/v1/items", json={"items": [{"kind": "kotak_suara", "destination": area.tps[0], "code": "BUP"}]})
    (scanned,) = phone.send(phone.scan("incident", area.item(), area.tps[0], incident="wet", reason="segel basah"))
    assert scanned["status"] == "accepted", scanned
    listed = ppk.get(f"/api/v1/users?search={kpps}").json()["accounts"]
    assert listed[0]["phones"][0]["last_scan"] is not None
    assert ppk.post(f"/api/v1/users/{kpps}/disable").status_code == 200
    refused = officer.post("/api/v1/events", json={"scans": [phone.scan("incident", area.item(), area.tps[0], incident="wet", reason="x")]})
    assert refused.status_code == 401 and "disabled" in refused.json()["detail"]


def test_wrong_codes_are_limited_per_address(client, kpu, area, monkeypatch):
    monkeypatch.setattr(client.app.state, "enroll_failures", PerClientRate(2), raising=False)
    (pps, *_) = do_import(kpu, csv_of(area)).json()["created"]
    for _ in range(2):
        assert enroll(client, "B" * 24, Ed25519PrivateKey.generate()).status_code == 410
    limited = enroll(client, pps["code"], Ed25519PrivateKey.generate())
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
