"""`jejak bench manifest`: how long a truckload's manifest takes to print (target: a
200-box manifest PDF in under 2 s).

Builds, in a fresh SQLite file (or the database `--database` names, dropped and
created again), a regency with one truckload of `--boxes` ballot boxes, each registered,
labelled, sealed and dispatched in it by signed scans as the field does. Then times,
`--rounds` times each:
- the whole request, `GET /api/v1/handoffs/{log}/{handoff}/manifest.pdf`, in process:
  authorization, reading the truckload's entries, signing, drawing the page;
- reading and signing alone (models/custody/truckloads.py);
- drawing alone (api/handoffs/documents.py), and the QR code within it.
Prints each figure's minimum, median and maximum, and the page count."""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.engine import make_url

from api.app import create_app
from api.handoffs.documents import manifest_pdf
from api.labels.render import qr_modules
from models.accounts.actor import Role
from models.accounts.users import actor_of, create_user
from models.core import migrations
from models.core.settings import Settings
from models.custody.handoffs import get_handoff
from models.custody.ingest import MAX_SCANS_PER_REQUEST
from models.custody.items import MAX_ITEMS_PER_REQUEST, ItemKind, ItemSpec, register_items
from models.custody.truckloads import read_truckload, sign_manifest
from models.places.sites import Site, SiteLevel
from models.runtime import Runtime
from scripts.bench_ledger import recreate_database
from scripts.seed_demo import new_phone, submit

REGENCY, DISTRICT, VILLAGE = "53.03", "53.03.08", "53.03.08.2001"
USER, PASSWORD = "kpu.bench", "bench manifest password"
HANDOFF = f"{REGENCY}-{DISTRICT}-bench"
TARGET_S = 2.0


def _sites(count: int) -> list[Site]:
    """The route: the KPU, a district, villages of up to 500 polling stations (two boxes each)."""
    rows = [
        Site(code=REGENCY, level=SiteLevel.KPU, name="TIMOR TENGAH UTARA", regency=REGENCY),
        Site(code=DISTRICT, level=SiteLevel.PPK, name="INSANA", parent_code=REGENCY, regency=REGENCY),
    ]
    stations = -(-count // 2)
    for v in range(-(-stations // 500)):
        village = f"{DISTRICT}.{2001 + v}"
        rows.append(Site(code=village, level=SiteLevel.PPS, name=f"DESA {v + 1}", parent_code=DISTRICT, regency=REGENCY))
        rows += [
            Site(code=f"{village}-{n:03d}", level=SiteLevel.TPS, name=f"TPS {n:03d}", parent_code=village, regency=REGENCY)
            for n in range(1, min(500, stations - 500 * v) + 1)
        ]
    return rows


def _load_truck(runtime: Runtime, boxes: int) -> None:
    """Register, seal and dispatch `boxes` boxes in one truckload, as the field does
    (signed scans, through the service the API calls)."""
    runtime.create_log(REGENCY)
    with runtime.db.session(write=True) as session:
        session.add_all(_sites(boxes))
        kpu = actor_of(create_user(session, username=USER, password=PASSWORD, role=Role.KPU, jurisdiction=REGENCY))
    stations = sorted(site.code for site in _sites(boxes) if site.level is SiteLevel.TPS)
    specs = [ItemSpec(ItemKind.KOTAK_SUARA, tps, code, contest=code) for tps in stations for code in ("BUP", "GUB")]
    specs = specs[:boxes]
    for start in range(0, len(specs), MAX_ITEMS_PER_REQUEST):
        chunk = specs[start : start + MAX_ITEMS_PER_REQUEST]
        register_items(runtime.databases, runtime.keys, runtime.sequencer, kpu, chunk)
    phone = new_phone(runtime, kpu, "bench phone")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for start in range(0, len(specs), MAX_SCANS_PER_REQUEST // 2):
        chunk = [spec.id for spec in specs[start : start + MAX_SCANS_PER_REQUEST // 2]]
        seals = {item: [f"S-{n:06d}A", f"S-{n:06d}B"] for n, item in enumerate(chunk, start=start)}
        scans = [phone.sign(type="seal", item=item, observed_at=now, site=REGENCY, seals=seals[item]) for item in chunk]
        scans += [
            phone.sign(type="dispatch", item=item, observed_at=now, site=REGENCY, counterparty=DISTRICT,
                       handoff=HANDOFF, vehicle="DH 8101 EA", escorts=["85061234", "85061235"], seals=seals[item])
            for item in chunk
        ]  # fmt: skip
        results = submit(runtime, kpu, scans)
        assert {r.status for r in results} == {"accepted"}, [r.reason for r in results if r.status != "accepted"][:3]


def timed_rounds(rounds: int, run: Callable[[], object]) -> list[float]:
    """The seconds each of `rounds` runs took."""
    seconds = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    return seconds


def _line(name: str, seconds: list[float]) -> str:
    return (
        f"{name:<34} min {min(seconds) * 1000:7.1f} ms, median {statistics.median(seconds) * 1000:7.1f} ms, "
        f"max {max(seconds) * 1000:7.1f} ms"
    )


def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="jejak-bench-manifest-") as tmp:
        url = (args.database or [f"sqlite:///{tmp}/jejak.db"])[0]
        recreate_database(url)
        settings = Settings(environment="test", database_url=url, host="bench.jejak", keys_dir=Path(tmp) / "keys")
        migrations.upgrade(settings.database_url)
        print(f"database {make_url(settings.database_url).render_as_string()}, {args.boxes} boxes, {args.rounds} rounds")
        with TestClient(create_app(settings, start_background=False)) as client:
            runtime = client.app.state.runtime  # type: ignore[attr-defined]
            started = time.perf_counter()
            _load_truck(runtime, args.boxes)
            print(f"loaded one truckload of {args.boxes} boxes in {time.perf_counter() - started:.1f} s")
            token = client.post("/api/v1/auth/token", data={"grant_type": "password", "username": USER, "password": PASSWORD}).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            path = f"/api/v1/handoffs/{REGENCY}/{HANDOFF}/manifest.pdf"

            def request() -> bytes:
                answer = client.get(path, headers=headers)
                assert answer.status_code == 200, answer.text
                return answer.content

            def read_and_sign():  # type: ignore[no-untyped-def]
                with runtime.db.reads() as session:
                    truckload = read_truckload(session, get_handoff(session, REGENCY, HANDOFF))
                    return sign_manifest(session, runtime.keys, settings.public_url, truckload)

            document = request()  # warm: the first request imports and caches what it needs
            signed = read_and_sign()
            whole = timed_rounds(args.rounds, request)
            reading = timed_rounds(args.rounds, read_and_sign)
            drawing = timed_rounds(args.rounds, lambda: manifest_pdf(signed))
            coding = timed_rounds(args.rounds, lambda: qr_modules(signed.url))
    pages = len(PdfReader(io.BytesIO(document)).pages)
    modules = len(qr_modules(signed.url))
    print(f"manifest: {pages} page(s), {len(document):,} bytes; QR code of {len(signed.url)} characters, "
          f"{modules} x {modules} modules (version {(modules - 17) // 4})")  # fmt: skip
    print(_line("GET manifest.pdf (whole request)", whole))
    print(_line("read the truckload and sign", reading))
    print(_line("draw the PDF", drawing))
    print(_line("  of which the QR code", coding))
    met = statistics.median(whole) < TARGET_S and pages == 1
    print(f"target: one page, under {TARGET_S:g} s for the whole request: {'met' if met else 'NOT met'}")
    return 0 if met else 1
