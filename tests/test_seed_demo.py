"""`jejak seed-demo`: the Timor Tengah Utara demo, built once in a database of its own
(the demo needs the real code 53.03, which no other test may see)."""

from __future__ import annotations

import base64
import io
import json
import math
from collections import Counter
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from ledger import merkle
from ledger.jcs import canonicalize
from sqlalchemy import select

from models.accounts.actor import SCOPES, Role

from models.accounts.enrollment import redeem
from models.accounts.onboarding import import_officers
from models.accounts.users import User, authenticate
from models.core.settings import get_settings
from models.custody.alerts import Alert
from models.custody.events import Event
from models.custody.completeness import State, completeness
from models.custody.handoffs import Handoff
from models.custody.stocktakes import Stocktake
from models.custody.truckloads import read_truckload
from models.custody.items import Item, ItemKind, ItemStatus
from models.log.reads import latest_checkpoint, tree_root
from models.log.tables import Log, LogEntry
from models.places.sites import Kerawanan, Site, SiteLevel, within
from models.runtime import Runtime
from scripts import seed_demo
from scripts.cli import main
from tests.helpers import fresh_database, rasterize, read_qr

TTU = seed_demo.REGENCY


@dataclass
class Demo:
    runtime: Runtime
    output: str


@pytest.fixture(scope="module")
def demo(database_url, tmp_path_factory) -> Iterator[Demo]:
    tmp = tmp_path_factory.mktemp("demo")
    with fresh_database(database_url, tmp) as url, pytest.MonkeyPatch.context() as env:
        env.setenv("DATABASE_URL", url)
        env.setenv("JEJAK_KEYS_DIR", str(tmp / "keys"))
        env.setenv("JEJAK_ENVIRONMENT", "development")
        get_settings.cache_clear()
        output = io.StringIO()
        with redirect_stdout(output):
            assert main(["seed-demo", "--if-empty"]) == 0
        runtime = Runtime(get_settings())
        try:
            yield Demo(runtime, output.getvalue())
        finally:
            runtime.close()
            get_settings.cache_clear()


def all_of(demo: Demo, model: type, *where: object) -> list:
    with demo.runtime.db.reads() as session:
        return list(session.scalars(select(model).where(*where)))


def test_real_areas_and_invented_polling_stations(demo):
    sites = all_of(demo, Site, Site.regency == TTU)
    by_level = Counter(site.level for site in sites)
    villages = sorted(site.code for site in sites if site.level is SiteLevel.PPS)
    expected_tps = sum(seed_demo.tps_count(v) for v in villages) + len(seed_demo.KHUSUS)
    assert (by_level[SiteLevel.KPU], by_level[SiteLevel.PPK], by_level[SiteLevel.PPS]) == (1, 24, 193)
    assert by_level[SiteLevel.TPS] == expected_tps
    assert 2 * 193 + 2 <= expected_tps <= 4 * 193 + 2
    tps = [site for site in sites if site.level is SiteLevel.TPS]
    assert all(site.parent_code in villages for site in tps)
    per_village = Counter(site.parent_code for site in tps if not site.special)
    assert set(per_village.values()) <= {2, 3, 4} and len(per_village) == 193
    assert sorted(site.parent_code for site in tps if site.special) == sorted(seed_demo.KHUSUS)
    rawan = Counter(site.kerawanan for site in tps)
    assert rawan[Kerawanan.KURANG_RAWAN] > rawan[Kerawanan.RAWAN] > rawan[Kerawanan.SANGAT_RAWAN] > 0


def test_every_coordinate_is_marked_synthetic_and_lies_in_ttu(demo):
    sites = all_of(demo, Site, Site.regency == TTU)
    assert all(site.lat is not None and site.lon is not None for site in sites)
    assert all(site.coords_synthetic for site in sites)
    lat0, lon0 = seed_demo.CENTRE
    for site in sites:
        north = (site.lat - lat0) * 111.2
        east = (site.lon - lon0) * 111.2 * math.cos(math.radians(lat0))
        assert math.hypot(north, east) < 40, site.code


def test_two_ballot_boxes_per_polling_station(demo):
    tps = {site.code for site in all_of(demo, Site, Site.regency == TTU, Site.level == SiteLevel.TPS)}
    items = all_of(demo, Item, Item.log_id == TTU)
    assert len(items) == 2 * len(tps)
    assert Counter((item.destination, item.contest) for item in items) == Counter(
        {(code, contest): 1 for code in tps for contest in ("GUB", "BUP")}
    )
    assert all(item.kind is ItemKind.KOTAK_SUARA and item.id == f"{item.destination}-{item.contest}" for item in items)
    assert all(item.label_serial == 1 and item.label_jws for item in items)


def test_a_user_of_every_role_signs_in_with_the_demo_password(demo):
    users = {user.username: user for user in all_of(demo, User)}
    assert {user.role for user in users.values()} == set(Role)
    with demo.runtime.db.reads() as session:
        for demo_user in seed_demo.USERS:
            assert authenticate(session, demo_user.username, seed_demo.PASSWORD) is not None
    assert users["admin"].jurisdiction == ""
    assert users["kpps.nansean.001"].jurisdiction == "53.03.08.2005-001"
    assert users["escort.polres.ttu"].nrp
    assert set(users["integrator.silog"].scopes.split()) == SCOPES  # the README offers each
    for demo_user in seed_demo.USERS:  # the logins (Insana's imported officers have none until they enroll)
        assert demo_user.username in demo.output
    assert seed_demo.PASSWORD in demo.output


def test_boxes_part_way_along_their_route(demo):
    items = all_of(demo, Item, Item.log_id == TTU)

    def states(area: str) -> Counter[tuple[ItemStatus, str, str | None]]:
        return Counter((i.status, i.custodian, i.dispatch_to) for i in items if within(i.destination, area))

    insana, nansean = seed_demo.INSANA, seed_demo.NANSEAN
    assert set(states(seed_demo.KEFAMENANU)) == {(ItemStatus.SEALED, TTU, None)}
    assert set(states(seed_demo.INSANA_UTARA)) == {(ItemStatus.IN_TRANSIT, TTU, seed_demo.INSANA_UTARA)}
    assert set(states(insana)) == {
        (ItemStatus.HELD, insana, None),
        (ItemStatus.IN_TRANSIT, insana, "53.03.08.2006"),
        (ItemStatus.IN_TRANSIT, insana, "53.03.08.2007"),
        (ItemStatus.HELD, nansean, None),
        (ItemStatus.HELD, f"{nansean}-001", None),
        (ItemStatus.HELD, f"{nansean}-002", None),
    }
    assert states(f"{nansean}-001") == {(ItemStatus.HELD, f"{nansean}-001", None): 2}
    assert states(f"{nansean}-002") == {(ItemStatus.HELD, f"{nansean}-002", None): 1, (ItemStatus.HELD, nansean, None): 1}
    moved = {seed_demo.KEFAMENANU, insana, seed_demo.INSANA_UTARA}
    others = {i.status for i in items if not any(within(i.destination, area) for area in moved)}
    assert others == {ItemStatus.REGISTERED}
    # Clean custody: every scan accepted without a flag; one alert for the truck no escort
    # picked up, and the stock-take's two (test_a_stock_take_finds_one_missing_and_one_stray_box).
    events = all_of(demo, Event, Event.log_id == TTU)
    assert len(events) > 300 and all(event.flags == [] for event in events)
    [alert] = [a for a in all_of(demo, Alert, Alert.log_id == TTU) if not a.rule.startswith("stocktake")]
    assert (alert.rule, alert.site, alert.acked_at) == ("no_pickup", TTU, None)
    assert f"{TTU}-{seed_demo.INSANA_UTARA}-demo" in alert.detail


def test_a_stock_take_finds_one_missing_and_one_stray_box(demo):
    """PPK Insana's stock-take: every box it holds but one, and a box that the log
    places on its truck to Susulaku, whose custody stays as it was."""
    insana, susulaku = seed_demo.INSANA, seed_demo.ONWARD[1]
    [counted] = all_of(demo, Stocktake, Stocktake.log_id == TTU)
    assert (counted.id, counted.site, counted.status.value) == (f"{insana}-SO-demo", insana, "closed")
    [missing], [stray] = counted.missing, counted.unexpected
    assert within(missing, insana) and within(stray, susulaku) and len(counted.found) > 50
    [box] = all_of(demo, Item, Item.log_id == TTU, Item.id == stray)
    assert (box.status, box.custodian) == (ItemStatus.IN_TRANSIT, seed_demo.INSANA)
    raised = {(a.rule, a.item_id) for a in all_of(demo, Alert, Alert.log_id == TTU) if a.rule.startswith("stocktake")}
    assert raised == {("stocktake_missing", missing), ("stocktake_unexpected", stray)}


def test_escorts_pick_up_and_deliver_the_truckloads(demo):
    """Polres TTU's escorts guard every truckload with their own phones: each picked up
    but Insana Utara's, each received one delivered first, each in one scan."""
    loads = {h.id: h for h in all_of(demo, Handoff, Handoff.log_id == TTU)}
    escorts = {u.nrp: u.username for u in all_of(demo, User) if u.role is Role.ESCORT}
    assert len(escorts) == 2 and all(h.escorted and set(h.escorts) <= set(escorts) for h in loads.values())
    unguarded = f"{TTU}-{seed_demo.INSANA_UTARA}-demo"
    assert [h for h, load in loads.items() if load.picked_up_at is None] == [unguarded]
    received = {e.handoff_id for e in all_of(demo, Event, Event.log_id == TTU) if e.type == "receive"}
    assert received and {h for h, load in loads.items() if load.delivered_at is not None} == received
    attestations = [e for e in all_of(demo, Event, Event.log_id == TTU) if e.type in ("pickup", "delivery")]
    assert all(e.item_id is None and e.role == "escort" for e in attestations)
    assert len(attestations) == len(loads) - 1 + len(received)
    # Each cites the manifest the escort read, the truckload's own.
    with demo.runtime.db.reads() as session:
        digests = {h: read_truckload(session, load).manifest.digest for h, load in loads.items()}
        entries = {e.entry_index: json.loads(session.get_one(LogEntry, (TTU, e.entry_index)).data) for e in attestations}
    assert all(entries[e.entry_index]["scan"]["manifest"] == digests[e.handoff_id] for e in attestations)


def test_the_log_verifies(demo):
    """Root recomputed from every entry; every scan's signature checked with the device
    key the log itself carries; every box's chain (seq, prev) unbroken."""
    demo.runtime.checkpointer.sign_grown_logs()
    with demo.runtime.db.reads() as session:
        size = session.get_one(Log, TTU).size
        rows = session.execute(
            select(LogEntry.idx, LogEntry.leaf_hash, LogEntry.data).where(LogEntry.log_id == TTU).order_by(LogEntry.idx)
        ).all()
        stored_root = tree_root(session, demo.runtime.tiles, TTU, size)
        checkpoint = latest_checkpoint(session, TTU)
    tree = merkle.MemoryTree()
    device_keys: dict[str, Ed25519PublicKey] = {}
    chains: dict[str, tuple[int, str]] = {}
    scans = 0
    for expected_index, (index, leaf, data) in enumerate(rows):
        assert index == expected_index and merkle.leaf_hash(data) == leaf
        tree.append(merkle.leaf_hash(data))
        entry = json.loads(data)
        if entry["type"] == "device_register":
            device_keys[entry["device"]] = Ed25519PublicKey.from_public_bytes(base64.b64decode(entry["key"]))
        if "scan" in entry:
            device_keys[entry["device"]].verify(base64.b64decode(entry["sig"]), canonicalize(entry["scan"]))
            scans += 1
        if entry["item"] is not None:
            seq, prev = chains.get(entry["item"], (0, None))
            assert (entry["seq"], entry["prev"]) == (seq + 1, prev)
            chains[entry["item"]] = (entry["seq"], base64.b64encode(leaf).decode())
    assert size == len(rows) and tree.root() == stored_root
    assert (checkpoint.tree_size, checkpoint.root_hash) == (size, stored_root)
    assert len(device_keys) == 7 and scans > 300  # five custodians' phones, two escorts'


def test_insanas_officers_await_enrollment_with_printed_qrs(demo):
    """The demo's import file for one district and its enrollment sheets: importing the
    file again changes nothing, and a sheet's QR enrolls its officer's phone."""
    folder = seed_demo.onboarding_dir(demo.runtime)
    text = (folder / f"petugas-{seed_demo.INSANA}.csv").read_text(encoding="utf-8")
    sheets = sorted(folder.glob("pendaftaran-*.pdf"))
    assert len(sheets) == text.count(",pps,") and f"pendaftaran-{seed_demo.NANSEAN}.pdf" in {p.name for p in sheets}
    assert "officers of Insana imported" in demo.output
    with demo.runtime.db.session() as session:
        again = import_officers(session, None, text, period="pilkada-2024", code_lifetime=timedelta(days=1))
    assert again.created == [] and len(again.unchanged) == text.count("\n") - 1
    nansean = (folder / f"pendaftaran-{seed_demo.NANSEAN}.pdf").read_bytes()
    (first, *_) = read_qr(rasterize(nansean, 0, dpi=150))
    code = first.text.split("#", 1)[1]
    with demo.runtime.db.session(write=True) as session:
        enrolled = redeem(session, code, "kata sandi rahasia")
    assert enrolled.actor.jurisdiction.startswith(seed_demo.NANSEAN)


def test_a_second_run_with_if_empty_does_nothing(demo, capsys):
    with demo.runtime.db.reads() as session:
        size = session.get_one(Log, TTU).size
    assert main(["seed-demo", "--if-empty"]) == 0
    assert "already has items, nothing to do" in capsys.readouterr().out
    assert main(["seed-demo"]) == 1
    assert "already has items: the demo is seeded once per database" in capsys.readouterr().err
    with demo.runtime.db.reads() as session:
        assert session.get_one(Log, TTU).size == size


def test_refuses_to_run_in_production(demo, monkeypatch, capsys):
    monkeypatch.setenv("JEJAK_ENVIRONMENT", "production")
    monkeypatch.setenv("JEJAK_HOST", "jejak.kpu.example")
    monkeypatch.setenv("JEJAK_PUBLIC_URL", "https://jejak.kpu.example")
    get_settings.cache_clear()
    try:
        assert main(["seed-demo", "--if-empty"]) == 1
    finally:
        get_settings.cache_clear()
    assert "refuses to run in production" in capsys.readouterr().err


def test_some_polling_stations_are_incomplete(demo):
    """Nansean's TPS 001 has both its boxes, TPS 002 its Bupati box only; the other
    TPS of the district have none yet."""
    with demo.runtime.db.reads() as session:
        found = completeness(session, seed_demo.INSANA, "pilkada")
    listed = {s.code: s for s in found.stations}
    assert f"{seed_demo.NANSEAN}-001" not in listed
    incomplete = listed[f"{seed_demo.NANSEAN}-002"]
    assert (incomplete.state, [(m.code, m.item and m.item.custodian) for m in incomplete.missing]) == (
        State.INCOMPLETE, [("GUB", seed_demo.NANSEAN)],
    )  # fmt: skip
    assert found.counts.complete == 1 and found.counts.incomplete == 1 and found.counts.not_started > 40
    [village] = [a for a in found.areas if a.code == seed_demo.NANSEAN]
    assert (village.counts.complete, village.counts.incomplete, village.counts.not_started) == (1, 1, 0)
