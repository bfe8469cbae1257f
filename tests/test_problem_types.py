"""Machine-readable errors: every problem's `type` is a stable URI that names a page
explaining its code, and a refused scan says why by a documented code and whether the
same scan, sent again later, can be recorded."""

from __future__ import annotations

import re
from pathlib import Path

from api.problem_types import PROBLEM_TYPES
from models.custody.refusals import REASONS
from tests.factories import register, sign

ROOT = Path(__file__).resolve().parents[1]
API_DOC = (ROOT / "docs" / "API.md").read_text()


def codes_in_sources() -> set[str]:
    """Every problem code the sources name: `code="…"` arguments and class defaults."""
    found: set[str] = set()
    for source in [*ROOT.glob("api/**/*.py"), *ROOT.glob("models/**/*.py")]:
        found |= set(re.findall(r'\bcode(?:=| = )"([a-z_]+)"', source.read_text()))
    return found


def test_every_code_the_service_answers_with_has_a_page(client) -> None:
    missing = codes_in_sources() - set(PROBLEM_TYPES)
    assert not missing, f"add to api/problem_types.py PROBLEM_TYPES: {sorted(missing)}"
    listing = client.get("/problems")
    assert listing.status_code == 200 and "text/html" in listing.headers["content-type"]
    for code in PROBLEM_TYPES:
        assert f'id="{code}"' in listing.text
        assert f"`{code}`" in API_DOC, f"docs/API.md lists {code}"


def test_a_problem_type_names_the_page_about_its_code(client, world) -> None:
    problem = world.people["kpu"].get("/api/v1/items/53.03.08.2001-999-XYZ")
    assert problem.status_code == 404
    body = problem.json()
    assert body["type"] == f"/problems/{body['code']}" and body["code"] == "item_not_found"
    page = client.get(body["type"])
    assert page.status_code == 200 and "item_not_found" in page.text and "No such item" in page.text
    assert client.get("/problems/no_such_code").status_code == 404
    unsigned = client.get("/api/v1/items")
    assert unsigned.json()["type"] == "/problems/not_signed_in"


def test_a_refused_scan_says_why_by_code_and_whether_to_resend(crew, area) -> None:
    kpu = crew["kpu"]
    box = area.item(0)
    # Not registered yet: registering it later makes the same scan good, so keep it.
    early = kpu.scan("seal", box, area.kpu, seals=["S-1"])
    (result,) = kpu.send(early)
    assert (result["status"], result["reason_code"], result["resend"]) == ("rejected", "item_unknown", True)
    register(crew, (area.tps[0], "BUP"))
    (again,) = kpu.send(early)
    assert again["status"] == "accepted" and again["reason_code"] is None and again["resend"] is None
    # Forged: never recordable.
    forged = kpu.scan("seal", box, area.kpu, seals=["S-2"])
    forged["sig"] = forged["sig"][::-1]
    (bad,) = kpu.send(forged)
    assert (bad["reason_code"], bad["resend"]) == ("bad_signature", False)
    (malformed,) = kpu.send({"scan": "no"})  # type: ignore[arg-type]
    assert (malformed["reason_code"], malformed["resend"]) == ("malformed_envelope", False)
    # Another scan under a used event_id: a conflict, said the same way.
    reuse = kpu.scan("seal", box, area.kpu, seals=["S-3"])
    reuse["scan"]["event_id"] = early["scan"]["event_id"]
    (conflict,) = kpu.send(sign(kpu.key, reuse["scan"]))
    assert (conflict["status"], conflict["reason_code"], conflict["resend"]) == ("conflict", "event_id_reused", False)


def test_every_refusal_code_is_documented() -> None:
    for code, (resend, _) in REASONS.items():
        row = re.search(rf"^\| `{code}` \| (yes|no) \|", API_DOC, re.M)
        assert row, f"docs/API.md, *Scan refusals*, lists {code}"
        assert (row.group(1) == "yes") == resend, code
