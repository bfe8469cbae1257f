"""`jejak bench onboarding`: how long onboarding takes at a regency's scale (targets:
10,000 officers imported in under 60 s; the enrollment sheet PDF of 500 officers in
under 10 s).

Builds, in a fresh SQLite file (or the database `--database` names, dropped and
created again), a regency of districts of five villages with ten polling stations
each, and a CSV of `--officers` officers (500 a district: nine KPPS a station, ten PPS
a village), then times, in process, as the KPU:
- `POST /api/v1/users/import` of the whole file (validation, accounts, one enrollment
  code each, audit records), beside the hashing alone of as many codes (SHA-256, what
  is stored) and what Argon2id, the password hash, would cost for as many secrets
  (measured on a few, multiplied);
- the same file imported again (idempotent: nothing created);
- `POST /api/v1/users/enrollment-sheet` of the first district, 500 officers (new codes,
  the PDF), and the drawing alone.
Prints each figure and whether the targets are met."""

from __future__ import annotations

import argparse
import hashlib
import io
import tempfile
import time
from pathlib import Path

from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.engine import make_url

from api.app import create_app
from api.users.sheet import Card, enrollment_sheet_pdf
from models.accounts.actor import Role
from models.accounts.enrollment import new_code
from models.accounts.users import create_user
from models.core import migrations
from models.core.base import utcnow
from models.core.settings import Settings
from models.places.sites import Site, SiteLevel
from models.runtime import Runtime
from scripts.bench_ledger import recreate_database

REGENCY = "53.03"
USER, PASSWORD = "kpu.bench", "bench onboarding password"
PER_DISTRICT, VILLAGES, STATIONS = 500, 5, 10
IMPORT_TARGET_S, SHEET_TARGET_S = 60.0, 10.0
ARGON2_SAMPLE = 5


def _districts(officers: int) -> int:
    return -(-officers // PER_DISTRICT)


def _sites(districts: int) -> list[Site]:
    rows = [Site(code=REGENCY, level=SiteLevel.KPU, name="TIMOR TENGAH UTARA", regency=REGENCY)]
    for d in range(1, districts + 1):
        district = f"{REGENCY}.{d:02d}"
        rows.append(Site(code=district, level=SiteLevel.PPK, name=f"KECAMATAN {d}", parent_code=REGENCY, regency=REGENCY))
        for v in range(VILLAGES):
            village = f"{district}.{2001 + v}"
            rows.append(Site(code=village, level=SiteLevel.PPS, name=f"DESA {d}-{v + 1}", parent_code=district, regency=REGENCY))
            rows += [
                Site(code=f"{village}-{n:03d}", level=SiteLevel.TPS, name=f"TPS {n:03d}", parent_code=village, regency=REGENCY)
                for n in range(1, STATIONS + 1)
            ]
    return rows


def officers_csv(officers: int) -> str:
    """`officers` rows, 500 a district: ten PPS a village, nine KPPS a polling station."""
    lines = ["name,role,jurisdiction,nik,phone"]
    for n in range(officers):
        district = f"{REGENCY}.{n // PER_DISTRICT + 1:02d}"
        k = n % PER_DISTRICT
        village = f"{district}.{2001 + k // 100}"
        if k % 100 < 10:
            role, where = "pps", village
        else:
            role, where = "kpps", f"{village}-{(k % 100 - 10) // 9 + 1:03d}"
        lines.append(f"Petugas {n + 1},{role},{where},5303{n:012d},0812{n:08d}")
    return "\n".join(lines) + "\n"


def _seconds(run) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def main(args: argparse.Namespace) -> int:
    officers, on_sheet = args.officers, min(args.officers, PER_DISTRICT)
    with tempfile.TemporaryDirectory(prefix="jejak-bench-onboarding-") as tmp:
        url = (args.database or [f"sqlite:///{tmp}/jejak.db"])[0]
        recreate_database(url)
        settings = Settings(environment="test", database_url=url, host="bench.jejak", keys_dir=Path(tmp) / "keys")
        migrations.upgrade(settings.database_url)
        print(f"database {make_url(settings.database_url).render_as_string()}, {officers:,} officers")
        with TestClient(create_app(settings, start_background=False)) as client:
            runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
            runtime.create_log(REGENCY)
            with runtime.db.session(write=True) as session:
                session.add_all(_sites(_districts(officers)))
                create_user(session, username=USER, password=PASSWORD, role=Role.KPU, jurisdiction=REGENCY)
            token = client.post("/api/v1/auth/token", data={"grant_type": "password", "username": USER, "password": PASSWORD}).json()
            headers = {"Authorization": f"Bearer {token['access_token']}", "Content-Type": "text/csv"}
            body = officers_csv(officers).encode()
            print(f"file: {officers:,} rows, {len(body):,} bytes, {_districts(officers)} districts")

            def upload():  # type: ignore[no-untyped-def]
                answer = client.post("/api/v1/users/import?period=bench-2029", content=body, headers=headers)
                assert answer.status_code == 200, answer.text[:500]
                return answer.json()

            imported_s, first = _seconds(upload)
            again_s, second = _seconds(upload)
            assert len(first["created"]) == officers and len(second["unchanged"]) == officers  # type: ignore[index]
            codes = [new_code() for _ in range(officers)]
            sha_s, _ = _seconds(lambda: [hashlib.sha256(code.encode()).hexdigest() for code in codes])
            hasher = PasswordHasher()
            argon_s, _ = _seconds(lambda: [hasher.hash(code) for code in codes[:ARGON2_SAMPLE]])
            district = f"{REGENCY}.01"
            sheet_s, answer = _seconds(
                lambda: client.post(f"/api/v1/users/enrollment-sheet?site={district}", headers=headers)
            )
            assert answer.status_code == 200, answer.text[:500]  # type: ignore[attr-defined]
            pdf = answer.content  # type: ignore[attr-defined]
            cards = [
                Card(f"{settings.public_url}/enroll#{code}", code, f"kpps.53.03.01.2001.001.{n}", f"Petugas {n}", "kpps",
                     "53.03.01.2001-001", "TPS 001", utcnow())
                for n, code in enumerate(codes[:on_sheet])
            ]  # fmt: skip
            draw_s, _ = _seconds(lambda: enrollment_sheet_pdf(district, "KECAMATAN 1", cards, utcnow()))
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    print(f"import {officers:,} officers (whole request)   {imported_s:8.2f} s  ({officers / imported_s:,.0f} officers/s)")
    print(f"  beside: SHA-256 of {officers:,} codes alone   {sha_s * 1000:8.1f} ms")
    per = argon_s / ARGON2_SAMPLE
    print(f"  beside: Argon2id, {ARGON2_SAMPLE} secrets        {argon_s:8.2f} s  ({per * 1000:.0f} ms each: "
          f"{officers:,} would take {per * officers:,.0f} s)")  # fmt: skip
    print(f"import the same file again (unchanged)   {again_s:8.2f} s")
    print(f"enrollment sheet of {on_sheet} officers (request) {sheet_s:8.2f} s  ({pages} pages, {len(pdf):,} bytes)")
    print(f"  of which drawing the PDF               {draw_s:8.2f} s")
    met = imported_s < IMPORT_TARGET_S and sheet_s < SHEET_TARGET_S
    print(f"targets: import under {IMPORT_TARGET_S:g} s, sheet under {SHEET_TARGET_S:g} s: {'met' if met else 'NOT met'}")
    return 0 if met else 1
