"""Signed QR labels (docs/DESIGN.md §6): the codes read back to a URL whose signature checks
against the keys the log publishes; sheets print every label of an area as real text;
a reprint revokes the label before it; a counterfeit fails; only the KPU prints."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fpdf import FPDF
from ledger import jws
from ledger.jcs import canonicalize
from PIL import Image
from pypdf import PdfReader

from api.labels import endpoints as label_endpoints
from models.accounts.actor import Role
from models.custody.items import LABEL_TYPE
from models.places.sites import Site, SiteLevel
from tests.factories import Person, make_person
from tests.helpers import rasterize, read_qr

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def kpu(client, runtime, area) -> Person:
    return make_person(client, runtime, Role.KPU, area.kpu)


def register(kpu: Person, *specs: dict[str, Any]) -> list[str]:
    response = kpu.post("/api/v1/items", json={"items": list(specs)})
    assert response.status_code == 201, response.text
    return [item["id"] for item in response.json()["items"]]


def box(destination: str, contest: str) -> dict[str, Any]:
    return {"kind": "kotak_suara", "destination": destination, "code": contest, "contest": contest}


def published_keys(client, log_id: str) -> dict[str, Ed25519PublicKey]:
    response = client.get(f"/api/v1/logs/{log_id}/label-keys")  # public: no token
    assert response.status_code == 200, response.text
    return {
        k["kid"]: Ed25519PublicKey.from_public_bytes(jws.b64url_decode(k["x"]))
        for k in response.json()["keys"]
    }



def png_label(person: Person, item_id: str) -> tuple[str, str]:
    """(URL in the QR code, its error correction level) of the item's label.png."""
    response = person.get(f"/api/v1/items/{item_id}/label.png")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "no-store"
    (code,) = read_qr(Image.open(io.BytesIO(response.content)))
    return code.text, code.ec_level


def signature(settings, item_id: str, url: str) -> str:
    prefix = f"{settings.public_url.rstrip('/')}/v/{item_id}#"
    assert url.startswith(prefix), url
    return url[len(prefix):]


def trail(client, item_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/items/{item_id}/history")
    assert response.status_code == 200, response.text
    return [entry["entry"] for entry in response.json()["trail"]]


def test_the_png_code_holds_the_check_url_and_a_signature_that_verifies(client, settings, area, kpu):
    (item_id,) = register(kpu, box(area.tps[0], "BUP"))
    url, level = png_label(kpu, item_id)
    assert level == "Q"
    token = signature(settings, item_id, url)
    header, payload = jws.verify(token, published_keys(client, area.kpu))
    assert header["alg"] == "EdDSA" and header["typ"] == LABEL_TYPE
    assert isinstance(payload.pop("iat"), int)
    assert payload == {"item": item_id, "kind": "kotak_suara", "contest": "BUP", "dst": area.tps[0], "n": 1}
    # The log records this very label (its hash) in the item's chain.
    (label,) = [e for e in trail(client, item_id) if e["type"] == "label"]
    assert (label["serial"], label["kid"]) == (1, header["kid"])
    assert label["jws_sha256"] == hashlib.sha256(token.encode()).hexdigest()
    assert "revokes" not in label


def test_a_package_without_a_contest_gets_a_label_too(client, settings, area, kpu):
    (item_id,) = register(kpu, {"kind": "surat_suara", "destination": area.tps[1], "code": "SS", "serial": 2})
    url, _ = png_label(kpu, item_id)
    _, payload = jws.verify(signature(settings, item_id, url), published_keys(client, area.kpu))
    assert (payload["item"], payload["kind"], payload["contest"], payload["dst"]) == (
        item_id, "surat_suara", None, area.tps[1]
    )



def test_the_svg_is_svg_with_the_id_in_text_and_the_same_code(client, settings, area, kpu):
    (item_id,) = register(kpu, box(area.tps[0], "GUB"))
    response = kpu.get(f"/api/v1/items/{item_id}/label.svg")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.headers["cache-control"] == "no-store"
    root = ET.fromstring(response.content)
    assert root.tag == f"{SVG}svg" and root.get("viewBox")
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert item_id in texts
    assert f"TPS {area.tps[0]}" in texts
    # Drawn (through a PDF) and read back, it is the same code as the PNG's.
    pdf = FPDF(unit="mm")
    pdf.add_page()
    pdf.image(io.BytesIO(response.content), x=10, y=10, w=150)
    (code,) = read_qr(rasterize(bytes(pdf.output()), dpi=150))
    assert code.ec_level == "Q"
    assert code.text == png_label(kpu, item_id)[0]


def test_a_sheet_prints_every_label_under_a_site_as_text_and_readable_codes(client, settings, area, kpu):
    contests = ["BUP", "GUB", "DPD", "DPRD", "PPWP", "DPRK", "X1", "X2", "X3", "X4", "X5", "X6"]
    ids = register(kpu, *(box(tps, c) for tps in area.tps[:2] for c in contests))
    elsewhere = register(kpu, box(area.tps[2], "BUP"))
    response = kpu.get("/api/v1/labels.pdf", params={"site": area.tps[0]})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    only_first = PdfReader(io.BytesIO(response.content))
    first_text = "\n".join(page.extract_text() for page in only_first.pages)
    assert all(i in first_text for i in ids[:12]) and not any(i in first_text for i in ids[12:] + elsewhere)

    response = kpu.get("/api/v1/labels.pdf", params={"site": area.pps})
    assert response.status_code == 200, response.text
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 2  # 25 labels at 3 x 7 a page
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.1)  # A4
    text = "\n".join(page.extract_text() for page in reader.pages)
    for item_id in ids + elsewhere:
        assert item_id in text.splitlines(), item_id  # whole, on a line of its own

    # A sheet printed at a modest 200 dpi still reads: all 21 codes of the first page.
    keys = published_keys(client, area.kpu)
    codes = read_qr(rasterize(response.content, 0, dpi=200))
    assert len(codes) == 21
    printed = set()
    for code in codes:
        assert code.ec_level == "Q"
        item_id = code.text.split("/v/", 1)[1].split("#", 1)[0]
        _, payload = jws.verify(signature(settings, item_id, code.text), keys)
        assert payload["item"] == item_id
        printed.add(item_id)
    assert printed == set(sorted(ids + elsewhere)[:21])


def test_sheet_errors_are_clear(client, area, kpu, monkeypatch):
    register(kpu, *(box(area.tps[0], c) for c in ("BUP", "GUB", "DPD")))
    nothing = kpu.get("/api/v1/labels.pdf", params={"site": area.other_pps})
    assert nothing.status_code == 404 and "no items" in nothing.json()["detail"]
    assert nothing.headers["content-type"] == "application/problem+json"
    unknown = kpu.get("/api/v1/labels.pdf", params={"site": f"{area.ppk}.9999"})
    assert unknown.status_code == 404 and "no site" in unknown.json()["detail"]
    assert kpu.get("/api/v1/labels.pdf", params={"site": "53.3"}).status_code == 400
    assert kpu.get("/api/v1/labels.pdf").status_code == 422
    monkeypatch.setattr(label_endpoints, "MAX_LABELS_PER_SHEET", 2)
    too_many = kpu.get("/api/v1/labels.pdf", params={"site": area.tps[0]})
    assert too_many.status_code == 400, too_many.text
    assert "more than 2 labels" in too_many.json()["detail"]
    assert too_many.headers["content-type"] == "application/problem+json"


def test_a_reprint_gets_serial_2_and_the_log_revokes_label_1(client, settings, area, kpu):
    (item_id,) = register(kpu, box(area.tps[0], "BUP"))
    first = signature(settings, item_id, png_label(kpu, item_id)[0])
    response = kpu.post(f"/api/v1/items/{item_id}/labels")
    assert response.status_code == 201, response.text
    assert response.json()["label_serial"] == 2
    url, level = png_label(kpu, item_id)
    second = signature(settings, item_id, url)
    assert level == "Q" and second != first
    keys = published_keys(client, area.kpu)
    _, payload = jws.verify(second, keys)
    assert (payload["item"], payload["n"]) == (item_id, 2)
    labels = [e for e in trail(client, item_id) if e["type"] == "label"]
    assert [(e["serial"], e.get("revokes")) for e in labels] == [(1, None), (2, 1)]
    assert labels[1]["jws_sha256"] == hashlib.sha256(second.encode()).hexdigest()
    # The old label still carries a good signature (a phone offline cannot know better);
    # what revokes it is the log, and the serial it shows is no longer the current one.
    assert jws.verify(first, keys)[1]["n"] == 1
    svg = kpu.get(f"/api/v1/items/{item_id}/label.svg").text
    assert "label ke-2" in svg


def test_the_label_keys_are_a_public_jwks_and_entries_in_the_log(client, area, kpu):
    (item_id,) = register(kpu, box(area.tps[0], "BUP"))
    response = client.get(f"/api/v1/logs/{area.kpu}/label-keys")
    assert response.status_code == 200
    assert "max-age" in response.headers["cache-control"]
    (key,) = response.json()["keys"]
    assert {k: key[k] for k in ("kty", "crv", "use", "alg", "retired_index")} == {
        "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "retired_index": None
    }
    public = Ed25519PublicKey.from_public_bytes(jws.b64url_decode(key["x"]))
    assert key["kid"] == jws.thumbprint(public)  # RFC 7638
    # The key entry is in the log, at the index the set names, before any label.
    index = key["published_index"]
    entries = client.get(f"/api/v1/logs/{area.kpu}/entries", params={"start": index, "end": index + 1}).json()
    (entry,) = [json.loads(base64.b64decode(e["entry"])) for e in entries["entries"]]
    assert (entry["type"], entry["kid"], entry["alg"]) == ("label_key", key["kid"], "EdDSA")
    assert base64.b64decode(entry["key"]) == public.public_bytes_raw()
    history = client.get(f"/api/v1/items/{item_id}/history").json()["trail"]
    assert all(e["index"] > index for e in history)
    # The labels the log names are signed by it.
    assert {e["entry"]["kid"] for e in history if e["entry"]["type"] == "label"} == {key["kid"]}
    assert client.get("/api/v1/logs/97.99/label-keys").status_code == 404


def test_a_counterfeit_label_fails_against_the_published_keys(client, settings, area, kpu):
    (item_id,) = register(kpu, box(area.tps[0], "BUP"))
    genuine = signature(settings, item_id, png_label(kpu, item_id)[0])
    keys = published_keys(client, area.kpu)
    header, payload = jws.verify(genuine, keys)
    forger = Ed25519PrivateKey.generate()
    # A key of the forger's own: its kid is none of the log's.
    fake = jws.sign(payload, forger, {"typ": LABEL_TYPE})
    with pytest.raises(jws.JwsError, match="unknown key"):
        jws.verify(fake, keys)
    # The forger claims the KPU's kid: the signature does not verify.
    protected = jws.b64url(canonicalize(header))
    body = jws.b64url(canonicalize({**payload, "item": f"{area.tps[1]}-BUP", "dst": area.tps[1]}))
    claimed = f"{protected}.{body}." + jws.b64url(forger.sign(f"{protected}.{body}".encode()))
    with pytest.raises(jws.JwsError, match="does not verify"):
        jws.verify(claimed, keys)
    # A genuine signature moved onto another box's payload fails too.
    moved = f"{protected}.{body}.{genuine.split('.')[2]}"
    with pytest.raises(jws.JwsError, match="does not verify"):
        jws.verify(moved, keys)


def _other_regency(runtime, log_id: str) -> str:
    """A regency with no log of its own in this test (70.xx for the 90.xx of new_log)."""
    code = "7" + log_id[1:]
    with runtime.db.session(write=True) as session:
        if session.get(Site, code) is None:
            session.add(Site(code=code, level=SiteLevel.KPU, name=f"Kabupaten {code}", regency=code))
    return code


def test_only_the_kpu_and_admins_of_the_jurisdiction_print_labels(client, runtime, area, kpu):
    (item_id,) = register(kpu, box(area.tps[0], "BUP"))
    people = {
        "admin": make_person(client, runtime, Role.ADMIN, ""),
        "admin-of-the-regency": make_person(client, runtime, Role.ADMIN, area.kpu),
        "kpu": kpu,
        "ppk": make_person(client, runtime, Role.PPK, area.ppk),
        "kpps": make_person(client, runtime, Role.KPPS, area.tps[0]),
        "auditor": make_person(client, runtime, Role.AUDITOR, area.kpu),
        "integrator": make_person(client, runtime, Role.INTEGRATOR, area.kpu, scopes=frozenset({"items:read"})),
        "kpu-elsewhere": make_person(client, runtime, Role.KPU, _other_regency(runtime, area.kpu)),
        "admin-elsewhere": make_person(client, runtime, Role.ADMIN, _other_regency(runtime, area.kpu)),
        "anonymous": None,
    }
    paths = [
        f"/api/v1/items/{item_id}/label.png",
        f"/api/v1/items/{item_id}/label.svg",
        f"/api/v1/labels.pdf?site={area.tps[0]}",
    ]
    allowed = {"admin", "admin-of-the-regency", "kpu"}
    for who, person in people.items():
        for path in paths:
            response = client.get(path, headers=person.headers if person else {})
            expected = 200 if who in allowed else 401 if person is None else 403
            assert response.status_code == expected, f"{who} on {path}: {response.status_code} {response.text}"
            if expected != 200:
                assert response.headers["content-type"] == "application/problem+json"
    assert people["kpu-elsewhere"].get(f"/api/v1/labels.pdf?site={area.kpu}").status_code == 403
    assert kpu.get(f"/api/v1/items/{area.tps[1]}-BUP/label.png").status_code == 404
    assert kpu.get("/api/v1/items/not-an-item/label.svg").status_code == 400
