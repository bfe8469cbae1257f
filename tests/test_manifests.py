"""Truckload manifests and the berita acara serah terima (docs/LABELS.md, *Manifests*):
the manifest signed like a label and checked offline with the labels' verifier, its
boxes and seals those the log's dispatches loaded, tampering found; the PDFs read back
(text and QR codes); the receipt; the public page and its data; who may fetch what."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from ledger import jws
from ledger.jcs import canonicalize
from ledger.merkle import leaf_hash, verify_inclusion
from ledger.note import Verifier
from ledger.proof_bundle import ProofBundle, verify_bundle
from pypdf import PdfReader

from api.handoffs.documents import manifest_pdf
from models.accounts.actor import Role
from models.accounts.users import User
from models.custody import manifests
from models.custody.manifests import Loading, Mismatch
from models.custody.handoffs import Handoff
from models.custody.truckloads import SignedManifest, Truckload
from models.places.zones import zone_of
from tests.factories import Area, Person, Phone, add_district, make_person, new_area
from tests.helpers import node_or_skip

NRP = "85061234"
SENT = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)
ARRIVED = SENT + timedelta(minutes=12)


@dataclass
class Truck:
    area: Area
    kpu: Person
    ppk: Person
    escort: Person
    handoff: str
    loaded: dict[str, dict[str, Any]]  # item → its dispatch's answer (index…) and seals
    received: dict[str, dict[str, Any]]  # item → its receive's answer
    lost: str  # the box of the truckload never received
    stray: tuple[str, dict[str, Any]]  # a box of another truck received as this one's, and its answer
    closing: dict[str, Any]  # the close's answer


def seals_of(item: str) -> list[str]:
    digest = hashlib.sha256(item.encode()).hexdigest()[:6].upper()
    return [f"TTU-{digest}-B", f"TTU-{digest}-A"]


def named(runtime, person: Person, full_name: str, nrp: str | None = None) -> Person:
    """The account's name (and an escort's NRP), as the berita acara prints them."""
    with runtime.db.session(write=True) as session:
        user = session.get(User, person.id)
        user.full_name = full_name
        user.nrp = nrp or user.nrp
    return person


@pytest.fixture(scope="module")
def truck(client, runtime) -> Truck:
    """KPU → PPK: six boxes sealed and dispatched in one truckload under escort; the PPK
    receives five of them (one with other seals), and a box of another truck as this
    one's; then closes it, the sixth missing. All in a signed checkpoint."""
    area = new_area(runtime)
    kpu = named(runtime, make_person(client, runtime, Role.KPU, area.kpu), "Maria Kase")
    ppk = named(runtime, make_person(client, runtime, Role.PPK, area.ppk), "Yohanes Taek")
    escort = named(runtime, make_person(client, runtime, Role.ESCORT, area.kpu), "Bripka Andreas Nahak", NRP)
    boxes = [{"kind": "kotak_suara", "destination": tps, "code": code} for tps in area.tps for code in ("BUP", "GUB")]
    boxes.append({"kind": "kotak_suara", "destination": area.tps[0], "code": "DPD"})
    assert kpu.post("/api/v1/items", json={"items": boxes}).status_code == 201
    items = sorted(area.item(n, code) for n in range(3) for code in ("BUP", "GUB"))
    other = area.item(0, "DPD")
    handoff = f"{area.kpu}-{area.ppk}-1"
    sender, taker = Phone(kpu).register(), Phone(ppk).register()
    sender.send(*[sender.scan("seal", item, area.kpu, seals=seals_of(item)) for item in [*items, other]])
    answers = sender.send(*[
        sender.scan("dispatch", item, area.kpu, observed=SENT, counterparty=area.ppk, handoff=handoff,
                    vehicle="DH 8101 EA", escorts=[NRP], seals=seals_of(item))
        for item in items
    ], sender.scan("dispatch", other, area.kpu, observed=SENT, counterparty=area.ppk, handoff=f"{area.kpu}-{area.ppk}-2",
                   seals=seals_of(other)))  # fmt: skip
    assert {a["status"] for a in answers} == {"accepted"}
    # The escort takes the truck under guard and hands it over before its boxes are received.
    guard = Phone(escort).register()
    attested = guard.send(
        guard.scan("pickup", None, area.kpu, observed=SENT + timedelta(minutes=1), handoff=handoff),
        guard.scan("delivery", None, area.ppk, observed=ARRIVED - timedelta(minutes=1), handoff=handoff),
    )
    assert [(a["status"], a["flags"]) for a in attested] == [("accepted", [])] * 2
    loaded = {item: {**answer, "seals": sorted(seals_of(item))} for item, answer in zip(items, answers, strict=False)}
    lost, wet = items[-1], items[0]
    receives = [
        taker.scan("receive", item, area.ppk, observed=ARRIVED, counterparty=area.kpu, handoff=handoff,
                   seals=["TTU-OTHER"] if item == wet else seals_of(item))
        for item in [*items[:-1], other]
    ]  # fmt: skip
    answers = taker.send(*receives)
    received = dict(zip([*items[:-1], other], answers, strict=True))
    assert received[wet]["flags"] == ["seal_mismatch"]
    closing = ppk.post(f"/api/v1/handoffs/{area.kpu}/{handoff}/close")
    assert closing.status_code == 200 and closing.json()["missing"] == [lost], closing.text
    runtime.checkpointer.sign_grown_logs()
    stray = received.pop(other)
    return Truck(area, kpu, ppk, escort, handoff, loaded, received, lost, (other, stray), closing.json())


def url(truck: Truck, what: str = "") -> str:
    return f"/api/v1/handoffs/{truck.area.kpu}/{truck.handoff}{what}"


def label_keys(client, log_id: str) -> dict[str, Ed25519PublicKey]:
    keys = client.get(f"/api/v1/logs/{log_id}/label-keys").json()["keys"]  # public
    return {k["kid"]: Ed25519PublicKey.from_public_bytes(jws.b64url_decode(k["x"])) for k in keys}


def pdf_text(document: bytes) -> tuple[int, str]:
    """(pages, the text with its whitespace folded: table cells wrap their lines)."""
    reader = PdfReader(io.BytesIO(document))
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.1)  # A4
    return len(reader.pages), " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def qr_codes(document: bytes, dpi: int = 200) -> list[str]:
    """What the QR codes of a PDF's pages hold, read from the pages rendered as a printer would."""
    pdf = pypdfium2.PdfDocument(document)
    found = []
    for page in pdf:
        image = page.render(scale=dpi / 72).to_pil()
        found += [c.text for c in zxingcpp.read_barcodes(image) if c.format == zxingcpp.BarcodeFormat.QRCode]
    return found


def witawaktu(moment: datetime) -> str:
    return f"{moment.astimezone(zone_of('53')[0]):%d/%m/%Y %H.%M} WITA"


# ---------------------------------------------------------------- the signed manifest


def test_the_manifest_is_signed_like_a_label_and_verifies_offline(client, truck):
    answer = truck.kpu.get(url(truck, "/manifest"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    signed = answer.json()
    # The QR code's URL: the public check page, the JWS in its fragment (never sent to the server).
    assert signed["url"] == f"http://127.0.0.1:8000/v/m/{truck.area.kpu}/{truck.handoff}#{signed['jws']}"
    keys = label_keys(client, truck.area.kpu)  # fetched once, kept on the phone
    header, payload = jws.verify(signed["jws"], keys, manifests.MANIFEST_TYPE)  # the labels' verifier, offline
    assert (header["alg"], header["typ"], header["kid"]) == ("EdDSA", "jejak-manifest+jws", signed["kid"])
    assert payload == signed["payload"]
    assert payload == {
        "handoff": truck.handoff, "from": truck.area.kpu, "to": truck.area.ppk, "vehicle": "DH 8101 EA",
        "escorts": [NRP], "n": 6, "boxes": manifests.digest(signed["boxes"]),
        "observed": int(SENT.timestamp()), "iat": payload["iat"], "last": max(a["index"] for a in truck.loaded.values()),
    }  # fmt: skip
    assert manifests.check(signed["jws"], keys, truck.handoff, signed["boxes"]) == payload
    # What an escort's attestation of the whole truckload cites.
    assert signed["digest"] == manifests.manifest_digest(payload) == "sha256:" + hashlib.sha256(canonicalize(payload)).hexdigest()
    assert signed["origin"] == {"code": truck.area.kpu, "name": f"Kabupaten {truck.area.kpu}"}
    assert signed["destination"] == {"code": truck.area.ppk, "name": "Kecamatan"}
    # Ed25519 is deterministic: the same truckload, the same manifest.
    assert truck.ppk.get(url(truck, "/manifest")).json()["jws"] == signed["jws"]


def test_the_boxes_and_seals_are_those_the_dispatches_loaded(truck):
    signed = truck.kpu.get(url(truck, "/manifest")).json()
    assert signed["boxes"] == [
        {"index": answer["index"], "item": item, "seals": answer["seals"]} for item, answer in sorted(truck.loaded.items())
    ]
    assert truck.stray[0] not in {box["item"] for box in signed["boxes"]}  # dispatched in another truck
    # Each line is a dispatch entry of the log, as anyone can read it.
    for box in signed["boxes"]:
        (entry,) = truck.kpu.get(f"/api/v1/logs/{truck.area.kpu}/entries", params={"start": box["index"], "end": box["index"] + 1}).json()["entries"]
        scan = json.loads(base64.b64decode(entry["entry"]))["scan"]
        assert (scan["type"], scan["item"], scan["handoff"], sorted(scan["seals"])) == ("dispatch", box["item"], truck.handoff, box["seals"])


def _forge(token: str, change) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(jws.b64url_decode(payload))
    change(claims)
    return f"{header}.{jws.b64url(canonicalize(claims))}.{signature}"


def test_tampering_with_a_manifest_is_found(client, truck):
    signed = truck.kpu.get(url(truck, "/manifest")).json()
    keys, token, boxes = label_keys(client, truck.area.kpu), signed["jws"], signed["boxes"]
    fewer = _forge(token, lambda claims: claims.update(n=5))
    with pytest.raises(manifests.ManifestError, match="does not verify"):
        manifests.check(fewer, keys, truck.handoff)
    # The boxes listed beside it: one dropped, one seal changed.
    for changed in (boxes[1:], [{**boxes[0], "seals": ["TTU-FAKE"]}, *boxes[1:]]):
        with pytest.raises(manifests.ManifestError, match="not those the manifest signs"):
            manifests.check(token, keys, truck.handoff, changed)
    # Genuine, but of another truckload; signed by a key that is not the KPU's; a label's.
    with pytest.raises(manifests.ManifestError, match=f"not {truck.area.kpu}-other"):
        manifests.check(token, keys, f"{truck.area.kpu}-other")
    forged = manifests.sign(manifests.Manifest(signed["payload"], boxes), Ed25519PrivateKey.generate())
    with pytest.raises(manifests.ManifestError, match="unknown key"):
        manifests.check(forged, keys, truck.handoff)
    a_label = jws.sign({"item": truck.lost}, Ed25519PrivateKey.generate(), {"typ": "jejak-label+jws"})
    with pytest.raises(manifests.ManifestError, match="typ"):
        manifests.check(a_label, keys, truck.handoff)


def test_a_box_joining_the_truckload_changes_the_manifest(client, runtime, area):
    kpu = make_person(client, runtime, Role.KPU, area.kpu)
    assert kpu.post("/api/v1/items", json={"items": [
        {"kind": "kotak_suara", "destination": area.tps[0], "code": code} for code in ("BUP", "GUB")]}).status_code == 201  # fmt: skip
    phone, handoff = Phone(kpu).register(), f"{area.kpu}-{area.ppk}-pagi"
    first, second = area.item(0, "BUP"), area.item(0, "GUB")
    phone.send(phone.scan("dispatch", first, area.kpu, counterparty=area.ppk, handoff=handoff))
    before = kpu.get(f"/api/v1/handoffs/{area.kpu}/{handoff}/manifest").json()
    phone.send(phone.scan("dispatch", second, area.kpu, counterparty=area.ppk, handoff=handoff, vehicle="DH 1 X"))
    after = kpu.get(f"/api/v1/handoffs/{area.kpu}/{handoff}/manifest").json()
    assert [b["item"] for b in before["boxes"]] == [first] and [b["item"] for b in after["boxes"]] == [first, second]
    assert (before["payload"]["n"], after["payload"]["n"]) == (1, 2)
    assert before["digest"] != after["digest"] and after["payload"]["last"] > before["payload"]["last"]
    assert (before["payload"]["vehicle"], after["payload"]["vehicle"], after["payload"]["escorts"]) == (None, "DH 1 X", [])


# ------------------------------------------------------------------ pure functions


def _loading(item: str, **fields: Any) -> dict[str, Any]:
    scan = {"type": "dispatch", "item": item, "site": "53.03", "counterparty": "53.03.08", "handoff": "53.03-t",
            "observed_at": "2026-12-07T08:00:00+08:00", "seals": ["B", "A"], **fields}  # fmt: skip
    return {"type": "dispatch", "scan": scan, "flags": [], "received_at": "2026-12-07T00:01:00.000000Z"}


def test_the_manifest_is_a_function_of_the_dispatch_entries():
    entries = [
        (3, _loading("X-BUP", escorts=["2", "1"])),
        (5, {**_loading("Y-BUP"), "flags": ["not_custodian"]}),  # evidence only: loaded nothing
        (7, _loading("Z-BUP", handoff="53.03-other")),  # another truck
        (9, _loading("X-BUP", seals=["C"], escorts=["1"])),  # sent again: its last dispatch counts
        (11, {"type": "receive", "scan": {**_loading("Q-BUP")["scan"], "type": "receive"}, "flags": []}),
    ]
    loaded = manifests.loadings("53.03-t", entries)
    assert [(box.index, box.item, box.seals) for box in loaded] == [(9, "X-BUP", ("C",))]
    built = manifests.build("53.03-t", loaded)
    assert built.boxes == [{"index": 9, "item": "X-BUP", "seals": ["C"]}]
    assert built.payload["escorts"] == ["1"] and built.payload["observed"] == int(datetime(2026, 12, 7, tzinfo=UTC).timestamp())
    assert manifests.build("53.03-t", manifests.loadings("53.03-t", entries)).digest == built.digest
    with pytest.raises(ValueError, match="no box"):
        manifests.build("53.03-t", [])
    assert isinstance(loaded[0], Loading)


def test_the_receivers_check_against_the_manifest_names_each_differing_box():
    assert manifests.mismatches(["A", "B", "C"], received=["A", "D"], missing=["C"]) == [
        Mismatch("C", "missing"), Mismatch("D", "not_on_manifest"),
    ]  # fmt: skip
    assert manifests.mismatches(["A", "B"], received=["A", "B"]) == []


def test_the_manifest_module_is_pure():
    code = (
        "import sys, models.custody.manifests\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'fastapi', 'pydantic', 'api')))"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


# --------------------------------------------------------------------------- PDFs


def test_the_manifest_pdf_is_one_page_with_every_box_and_its_signed_qr(truck):
    answer = truck.kpu.get(url(truck, "/manifest.pdf"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == f'inline; filename="manifes-{truck.handoff}.pdf"'
    pages, text = pdf_text(answer.content)
    assert pages == 1
    signed = truck.kpu.get(url(truck, "/manifest")).json()
    for words in ("MANIFES MUATAN", truck.handoff, f"Kabupaten {truck.area.kpu} ({truck.area.kpu})", f"Kecamatan ({truck.area.ppk})",
                  "DH 8101 EA", NRP, witawaktu(SENT), "Jumlah barang : 6", signed["digest"]):  # fmt: skip
        assert words in text, words
    for item, sent in truck.loaded.items():
        assert item in text and ", ".join(sent["seals"]) in text
    assert qr_codes(answer.content) == [signed["url"]]


def test_a_200_box_manifest_fits_one_page():
    loaded = [
        Loading(n, f"53.03.08.{2001 + n // 50}-{n % 50 + 1:03d}-BUP", "53.03", "53.03.08", (f"S-{n:06d}", f"S-{n:06d}B"),
                "DH 8101 EA", (NRP,), SENT, SENT)  # fmt: skip
        for n in range(200)
    ]
    handoff = Handoff(log_id="53.03", id="53.03-53.03.08-besar", from_site="53.03", to_site="53.03.08")
    built = manifests.build(handoff.id, loaded)
    token = manifests.sign(built, Ed25519PrivateKey.generate())
    signed = SignedManifest(Truckload(handoff, built, [], None), token, "kid", f"https://jejak.example/v/m/53.03/{handoff.id}#{token}", {})
    pages, text = pdf_text(manifest_pdf(signed))
    assert pages == 1
    assert all(box["item"] in text for box in built.boxes) and "S-000199, S-000199B" in text


def test_the_berita_acara_names_the_parties_boxes_times_and_entries(truck):
    answer = truck.ppk.get(url(truck, "/berita-acara.pdf"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"] == f'inline; filename="berita-acara-{truck.handoff}.pdf"'
    _, text = pdf_text(answer.content)
    for words in ("BERITA ACARA SERAH TERIMA", truck.handoff, "Maria Kase (KPU Kab/Kota)", "Yohanes Taek (PPK)",
                  f"Bripka Andreas Nahak, NRP {NRP}", f"Kabupaten {truck.area.kpu} ({truck.area.kpu})", f"Kecamatan ({truck.area.ppk})",
                  "6 barang; 5 diterima, 1 tidak diterima", witawaktu(SENT), witawaktu(ARRIVED),
                  f"Selisih dengan manifes: 2 barang, 1 tidak diterima ({truck.lost}); 1 diterima tetapi tidak "
                  f"tercantum dalam manifes ({truck.stray[0]})",
                  "nomor segel tidak cocok", "tidak ada dalam manifes muatan"):  # fmt: skip
        assert words in text, words
    assert not re.search(r"\d[.:]\d\d(:\d\d)? ?UTC(?!\+)", text)  # every time in the site's zone
    # What the escort signed on their own phone, with its entries and times.
    signed = truck.ppk.get(f"/api/v1/handoffs/{truck.area.kpu}/{truck.handoff}").json()["attestations"]
    pickup, delivery = (a["entry_index"] for a in signed)
    assert f"diambil #{pickup} ({witawaktu(SENT + timedelta(minutes=1))})" in text
    assert f"diserahkan #{delivery} ({witawaktu(ARRIVED - timedelta(minutes=1))})" in text
    for item, sent in truck.loaded.items():
        assert item in text and f"#{sent['index']}" in text
    for item, taken in truck.received.items():
        assert f"#{taken['index']}" in text
    assert "TIDAK DITERIMA (entri #" in text
    stray, taken = truck.stray
    assert stray in text and f"#{taken['index']}" in text
    # The receipt's QR code pins the closing entry; the checkpoint it is in is printed whole.
    (pinned,) = qr_codes(answer.content)
    base, _, pin = pinned.partition("#r=")
    assert base == f"http://127.0.0.1:8000/v/m/{truck.area.kpu}/{truck.handoff}"
    index, leaf = pin.split(".")
    bundle = ProofBundle.parse(truck.ppk.get(url(truck, "/receipt")).text)
    assert int(index) == bundle.index and jws.b64url_decode(leaf) == leaf_hash(bundle.extra)
    assert f"entri #{index}" in text and f"penutupan #{index}" in text


def test_the_truckload_receipt_verifies_offline(client, truck):
    answer = truck.escort.get(url(truck, "/receipt"))
    assert answer.status_code == 200, answer.text
    bundle = ProofBundle.parse(answer.text)
    listed = {log["log"]: log for log in client.get("/api/v1/logs").json()["logs"]}[truck.area.kpu]
    checkpoint = verify_bundle(bundle, bundle.extra, Verifier.from_vkey(listed["verifier_key"]))
    closing = json.loads(bundle.extra)
    assert checkpoint.size > bundle.index
    assert (closing["type"], closing["handoff"], closing["missing"]) == ("handoff_close", truck.handoff, [truck.lost])
    assert closing["actor"] == str(truck.ppk.id)


def test_a_truckload_not_closed_has_no_berita_acara_yet(client, runtime, area):
    kpu = make_person(client, runtime, Role.KPU, area.kpu)
    assert kpu.post("/api/v1/items", json={"items": [{"kind": "kotak_suara", "destination": area.tps[0], "code": "BUP"}]}).status_code == 201
    phone, handoff = Phone(kpu).register(), f"{area.kpu}-{area.ppk}-1"
    phone.send(phone.scan("dispatch", area.item(), area.kpu, counterparty=area.ppk, handoff=handoff))
    for what in ("/berita-acara.pdf", "/receipt"):
        answer = kpu.get(f"/api/v1/handoffs/{area.kpu}/{handoff}{what}")
        assert answer.status_code == 409 and "is not closed" in answer.json()["detail"], answer.text
    ppk = make_person(client, runtime, Role.PPK, area.ppk)
    assert ppk.post(f"/api/v1/handoffs/{area.kpu}/{handoff}/close").status_code == 200
    early = kpu.get(f"/api/v1/handoffs/{area.kpu}/{handoff}/berita-acara.pdf")
    assert early.status_code == 409 and early.headers["Retry-After"] == "1", early.text  # no checkpoint yet
    runtime.checkpointer.sign_grown_logs()
    assert kpu.get(f"/api/v1/handoffs/{area.kpu}/{handoff}/berita-acara.pdf").status_code == 200


# ------------------------------------------------------------------ the public view


def test_the_public_sees_the_truckloads_entries_proven_and_no_names(client, truck):
    answer = client.get(url(truck, "/history"))  # no token
    assert answer.status_code == 200, answer.text
    history = answer.json()
    assert (history["from_site"], history["to_site"], history["status"]) == (truck.area.kpu, truck.area.ppk, "closed")
    listed = {log["log"]: log for log in client.get("/api/v1/logs").json()["logs"]}[truck.area.kpu]
    size, root = history["tree_size"], base64.b64decode(history["checkpoint"].split("\n")[2])
    Verifier.from_vkey(listed["verifier_key"])  # the page checks the note with it (tests/test_web_e2e.py does the browser)
    indexes = []
    for entry in history["entries"]:
        data = base64.b64decode(entry["entry_b64"])
        assert base64.b64decode(entry["leaf_hash"]) == leaf_hash(data)
        verify_inclusion(leaf_hash(data), entry["index"], size, [base64.b64decode(h) for h in entry["inclusion_proof"]], root)
        indexes.append(entry["index"])
    expected = [a["index"] for a in (*truck.loaded.values(), *truck.received.values(), truck.stray[1])]
    types = [e["entry"]["type"] for e in history["entries"]]
    assert indexes == sorted(indexes) and set(expected) <= set(indexes)
    assert types.count("missing") == 1 and types[-1] == "handoff_close"
    # Entries name no one: the people's names stay in the accounts.
    assert "Maria Kase" not in answer.text and "Andreas" not in answer.text and truck.kpu.username not in answer.text
    # The public check: the manifest's digest rebuilt from the public dispatch entries.
    signed = truck.kpu.get(url(truck, "/manifest")).json()
    rebuilt = manifests.build(truck.handoff, manifests.loadings(truck.handoff, [(e["index"], e["entry"]) for e in history["entries"]]))
    assert rebuilt.digest == signed["digest"]


def test_the_public_page_of_a_truckload(client, truck):
    page = client.get(f"/v/m/{truck.area.kpu}/{truck.handoff}")
    assert page.status_code == 200, page.text
    assert truck.handoff in page.text and f"Kecamatan ({truck.area.ppk})" in page.text
    assert f'data-log="{truck.area.kpu}"' in page.text and "/static/js/truckload.js" in page.text
    assert "Serah terima ditutup" in page.text and NRP not in page.text  # the escort counted, not named
    assert client.get("/static/js/truckload.js").status_code == 200
    assert client.get("/static/js/manifest.js").status_code == 200
    for path, status in [(f"/v/m/{truck.area.kpu}/{truck.area.kpu}-nope", 404), (f"/v/m/{truck.area.kpu}/bad%20id", 400), ("/v/m/8001/x", 400)]:
        answer = client.get(path)
        assert answer.status_code == status and "muatan" in answer.text.lower(), (path, answer.text)


# The page's own check (api/static/js/manifest.js), run by Node as the browser runs it.
_NODE_CHECK = """
import { boxesOf, checkManifest, digest } from "%s";
const input = JSON.parse(await new Promise((done) => {
  let text = ""; process.stdin.on("data", (d) => (text += d)); process.stdin.on("end", () => done(text));
}));
const out = {};
for (const [name, jws] of Object.entries(input.tokens)) {
  const checked = await checkManifest(input.handoff, jws, input.keys);
  out[name] = checked.ok ? "ok" : checked.why;
}
const boxes = boxesOf(input.handoff, input.entries, input.last);
out.boxes = boxes;
out.digest = await digest(boxes);
out.now = boxesOf(input.handoff, input.entries).length;
console.log(JSON.stringify(out));
"""


def test_the_check_pages_manifest_check_agrees_with_the_server(client, runtime, truck, tmp_path):
    node = node_or_skip()
    script = tmp_path / "check.mjs"
    script.write_text(_NODE_CHECK % (Path(__file__).parent.parent / "api/static/js/manifest.js").as_uri())
    signed = truck.kpu.get(url(truck, "/manifest")).json()
    history = client.get(url(truck, "/history")).json()
    token = signed["jws"]
    tokens = {
        "genuine": token,
        "fewer": _forge(token, lambda claims: claims.update(n=5)),
        "other": manifests.sign(manifests.Manifest({**signed["payload"], "handoff": f"{truck.area.kpu}-x"}, []), runtime.keys.label_key(truck.area.kpu)),
        "stranger": manifests.sign(manifests.Manifest(signed["payload"], []), Ed25519PrivateKey.generate()),
    }
    stdin = {
        "handoff": truck.handoff, "tokens": tokens, "keys": client.get(f"/api/v1/logs/{truck.area.kpu}/label-keys").json()["keys"],
        "entries": [{"index": e["index"], "record": e["entry"]} for e in history["entries"]], "last": signed["payload"]["last"],
    }  # fmt: skip
    done = subprocess.run([node, str(script)], input=json.dumps(stdin), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert [out[name] for name in tokens] == ["ok", "why_bad_signature", "why_other_truckload", "why_unknown_key"]
    assert out["boxes"] == signed["boxes"] and out["digest"] == signed["payload"]["boxes"] and out["now"] == 6


# The truckload's check page run by Node against the real service, as a browser runs it:
# the page's own modules, with just enough of a document for them to write into.
_NODE_PAGE = """
const [base, dataset, words, hash, tamper] = JSON.parse(process.argv[2]);
const nodes = {};
function node(tag) {
  const made = { tag, dataset: {}, attributes: {}, children: [], textContent: "", className: "" };
  made.setAttribute = (name, value) => (made.attributes[name] = value);
  made.append = (...children) => made.children.push(...children);
  made.replaceChildren = (...children) => (made.children = children);
  made.querySelector = (selector) => (nodes[selector] ??= node(selector));
  return made;
}
for (const id of ["verdict", "verdict-detail", "fragment-result", "boxes"]) nodes[id] = node("div");
nodes.check = Object.assign(node("div"), { dataset });
nodes.words = Object.assign(node("link"), { href: words });
globalThis.document = {
  documentElement: { lang: "id" },
  getElementById: (id) => nodes[id] ?? null,
  createElement: node,
};
globalThis.location = { hash };
const fetched = globalThis.fetch;
globalThis.fetch = async (path, options) => {
  const answer = await fetched(base + path, options);
  if (!tamper || !path.includes("/history")) return answer;
  // A server that lies: the first proven entry's proof rewritten.
  const history = await answer.json();
  history.entries.find((e) => e.inclusion_proof?.length).inclusion_proof[0] = btoa(String.fromCharCode(...new Uint8Array(32)));
  return new Response(JSON.stringify(history), { status: 200, headers: { "Content-Type": "application/json" } });
};
await import("%s");
const until = Date.now() + 20000;
while (!nodes.verdict.dataset.result && Date.now() < until) await new Promise((done) => setTimeout(done, 20));
const flat = (n) => (typeof n === "string" ? n : [n.textContent, ...n.children.map(flat)].join(" "));
console.log(JSON.stringify({
  result: nodes.verdict.dataset.result, detail: nodes["verdict-detail"].textContent,
  fragment: nodes["fragment-result"].textContent,
  boxes: nodes.boxes.children.map((li) => ({ item: li.attributes["data-item"], fate: li.attributes["data-fate"], text: flat(li) })),
}));
"""


@pytest.fixture(scope="module")
def page(live_server, truck, tmp_path_factory):
    """Open the truckload's check page with a fragment: what the page found."""
    node = node_or_skip()
    script = tmp_path_factory.mktemp("page") / "page.mjs"
    script.write_text(_NODE_PAGE % (Path(__file__).parent.parent / "api/static/js/truckload.js").as_uri())
    dataset = {"handoff": truck.handoff, "log": truck.area.kpu, "to": truck.area.ppk}
    html = truck.kpu.get(f"/v/m/{truck.area.kpu}/{truck.handoff}").text
    words = re.search(r'id="words" href="([^"]+)"', html).group(1)  # fetched from the service, as i18n.js does

    def open_page(fragment: str, *, tamper: bool = False) -> dict[str, Any]:
        argument = json.dumps([live_server, dataset, words, f"#{fragment}" if fragment else "", tamper])
        done = subprocess.run([node, str(script), argument], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))

    return open_page


def test_the_check_page_verifies_the_manifest_and_the_receipt(truck, page):
    signed = truck.kpu.get(url(truck, "/manifest")).json()
    shown = page(signed["jws"])
    assert shown["result"] == "verified", shown
    assert shown["fragment"].startswith("Manifes asli: 6 barang") and "terbukti ada di log" in shown["detail"]
    fates = {box["item"]: box["fate"] for box in shown["boxes"]}
    assert fates == {**dict.fromkeys(truck.received, "received"), truck.lost: "missing", truck.stray[0]: "stray"}
    assert not any(NRP in box["text"] for box in shown["boxes"])
    # The berita acara's QR code: the closing it pins, proven.
    bundle = ProofBundle.parse(truck.ppk.get(url(truck, "/receipt")).text)
    pin = f"r={bundle.index}.{jws.b64url(leaf_hash(bundle.extra))}"
    shown = page(pin)
    assert shown["result"] == "verified" and shown["fragment"].startswith("Tanda terima berita acara sah"), shown
    assert page("")["fragment"].startswith("Dibuka tanpa manifes")


@pytest.mark.parametrize("forgery", ["fewer boxes", "an insider's list", "another leaf", "another entry", "a lying server"])
def test_the_check_page_fails_a_forged_manifest_or_receipt(runtime, truck, page, forgery):
    bundle = ProofBundle.parse(truck.ppk.get(url(truck, "/receipt")).text)
    signed = truck.kpu.get(url(truck, "/manifest")).json()
    manifest = signed["jws"]
    # Signed with the KPU's own key, by someone who holds it, listing a box fewer than the log loaded.
    listed = signed["boxes"][1:]
    insiders = {**signed["payload"], "n": len(listed), "boxes": manifests.digest(listed)}
    fragment = {
        "fewer boxes": _forge(manifest, lambda claims: claims.update(n=5)),
        "an insider's list": manifests.sign(manifests.Manifest(insiders, listed), runtime.keys.label_key(truck.area.kpu)),
        "another leaf": f"r={bundle.index}.{jws.b64url(bytes(32))}",
        "another entry": f"r={truck.received[next(iter(truck.received))]['index']}.{jws.b64url(leaf_hash(bundle.extra))}",
        "a lying server": manifest,
    }[forgery]
    shown = page(fragment, tamper=forgery == "a lying server")
    assert shown["result"] == "failed", shown
    why = {
        "fewer boxes": "manifes: tanda tangan tidak sah",
        "an insider's list": "manifes: daftar barangnya berbeda dengan pengiriman di log",
        "a lying server": "tidak cocok dengan checkpoint",
    }.get(forgery, f"entri #{fragment[2:].split('.')[0]} bukan penutupan")
    assert why in shown["detail"], shown
    # The boxes are shown for what the server claims, each marked unproven.
    assert len(shown["boxes"]) == 7 and all(box["text"].endswith("tidak terbukti") for box in shown["boxes"])


# ------------------------------------------------------------------- who may see it


@pytest.fixture(scope="module")
def outsiders(client, runtime, truck) -> list[Person]:
    """Insiders of another regency, of another district, and of a village below the
    truckload's destination: none holds either of its ends."""
    other, district = new_area(runtime).kpu, add_district(runtime, truck.area.kpu).ppk
    return [
        make_person(client, runtime, Role.KPU, other),
        make_person(client, runtime, Role.AUDITOR, other),
        make_person(client, runtime, Role.ESCORT, other),
        make_person(client, runtime, Role.PPK, district),
        make_person(client, runtime, Role.PPS, truck.area.pps),
    ]


@pytest.mark.parametrize("what", ["", "/manifest", "/manifest.pdf", "/berita-acara.pdf", "/receipt"])
def test_only_the_truckloads_ends_read_its_papers(client, runtime, truck, outsiders, what):
    """Another regency's staff, or a district's or village's that is neither end, get
    403; no one signed in 401; both ends, the regency's escort and auditor 200."""
    for person in outsiders:
        answer = person.get(url(truck, what))
        assert answer.status_code == 403, (person.role, person.jurisdiction, answer.text)
        assert "outside your jurisdiction" in answer.json()["detail"]
    assert client.get(url(truck, what)).status_code == 401
    for person in (truck.kpu, truck.ppk, truck.escort, make_person(client, runtime, Role.AUDITOR, truck.area.kpu)):
        assert person.get(url(truck, what)).status_code == 200, (person.role, what)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/handoffs/{log}/{log}-nope/manifest", 404),
        ("/api/v1/handoffs/{log}/bad%20id/manifest", 422),
        ("/api/v1/handoffs/{log}/" + "x" * 65 + "/manifest.pdf", 422),
        ("/api/v1/handoffs/80-01/x/manifest", 422),
        ("/api/v1/handoffs/99.99/99.99-x/berita-acara.pdf", 404),
        ("/api/v1/handoffs/{log}/{log}-nope/history", 404),
        ("/api/v1/handoffs/{log}/a%2Fb/receipt", 404),
    ],
)
def test_bad_handoff_ids_are_clear_4xx(client, truck, path, status):
    answer = truck.kpu.get(path.format(log=truck.area.kpu))
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


def test_a_box_received_as_another_trucks_raises_manifest_mismatch(truck):
    stray, taken = truck.stray
    assert taken["flags"] == ["manifest_mismatch"]
    alerts = truck.kpu.get("/api/v1/alerts", params={"log": truck.area.kpu, "rule": "manifest_mismatch"}).json()["alerts"]
    assert [(a["item_id"], a["severity"], a["evidence"]) for a in alerts] == [(stray, "warning", [taken["index"]])]
    assert truck.handoff in alerts[0]["detail"]
