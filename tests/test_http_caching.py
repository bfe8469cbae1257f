"""HTTP caching of the public reads (api/caching.py): a box's history, its check page
and the log's checkpoint carry an ETag and a Cache-Control a shared cache can act on,
answer 304 to a client holding them, change as soon as the log says something new
about the box, and say exactly what they said before caching. And the limits on
public reads (api/limits.py): a crowd behind one carrier's address is not refused,
a 304 costs nothing, and the process has a budget."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from ledger import merkle

from api.app import create_app
from api.items.schemas import History, TrailEntryOut
from sqlalchemy import select

from models.custody.items import get_item, prove
from models.log.reads import latest_checkpoint
from models.log.tables import LogEntry
from tests.factories import Area, accepted, register, verify_trail
from tests.helpers import append, scans


@pytest.fixture
def box(crew, area: Area, runtime) -> str:
    """A registered box, sealed by its KPU, in a signed checkpoint."""
    register(crew, (area.tps[0], "BUP"))
    crew["kpu"].send(crew["kpu"].scan("seal", area.item(), area.kpu, seals=["S-1"]))
    runtime.checkpointer.sign_grown_logs()
    return area.item()


@contextmanager
def own_app(settings, address: str, **changes) -> Iterator[TestClient]:
    """An app with limits of its own, seen from one client address."""
    app = create_app(settings.model_copy(update=changes), start_background=False)
    try:
        yield TestClient(app, client=(address, 50000))
    finally:
        app.state.runtime.close()


def _revalidated(client: TestClient, path: str, etag: str, **kwargs):
    return client.get(path, headers={"If-None-Match": etag}, **kwargs)


# --- A box's history ------------------------------------------------------------------


def test_a_history_has_an_etag_a_shared_cache_may_keep_and_a_304_for_its_holder(client, box):
    path = f"/api/v1/items/{box}/history"
    first = client.get(path)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert first.headers["cache-control"] == "public, max-age=10"
    held = _revalidated(client, path, etag)
    assert held.status_code == 304 and held.content == b""
    assert held.headers["etag"] == etag and held.headers["cache-control"] == "public, max-age=10"
    # As a proxy may send it: weakened, or among other tags; `*` matches anything.
    for header in (f"W/{etag}", f'"other", {etag}', "*"):
        assert client.get(path, headers={"If-None-Match": header}).status_code == 304, header
    stale = _revalidated(client, path, '"not-this-one"')
    assert stale.status_code == 200 and stale.content == first.content


def test_a_new_scan_about_the_box_changes_its_etag_before_and_after_its_checkpoint(
    client, runtime, crew, area, box
):
    path = f"/api/v1/items/{box}/history"
    before = client.get(path)
    accepted(crew["kpu"].send(crew["kpu"].scan("seal", box, area.kpu, seals=["S-2"])))
    logged = _revalidated(client, path, before.headers["etag"])
    assert logged.status_code == 200 and logged.headers["etag"] != before.headers["etag"]
    assert logged.json()["trail"][-1]["inclusion_proof"] is None  # in the log, no checkpoint yet
    runtime.checkpointer.sign_grown_logs()
    proven = _revalidated(client, path, logged.headers["etag"])
    assert proven.status_code == 200 and proven.headers["etag"] not in {before.headers["etag"], logged.headers["etag"]}
    assert proven.json()["trail"][-1]["inclusion_proof"] is not None
    assert _revalidated(client, path, proven.headers["etag"]).status_code == 304


def test_scans_about_other_boxes_change_a_history_only_by_its_checkpoint(client, runtime, crew, area, box):
    path = f"/api/v1/items/{box}/history"
    before = client.get(path)
    register(crew, (area.tps[1], "BUP"))
    # Logged, not yet in a checkpoint: this box's history has not changed.
    assert _revalidated(client, path, before.headers["etag"]).status_code == 304
    runtime.checkpointer.sign_grown_logs()
    after = _revalidated(client, path, before.headers["etag"])
    assert after.status_code == 200 and after.json()["tree_size"] > before.json()["tree_size"]


def test_a_history_says_what_it_said_before_caching_and_its_proofs_verify(client, app_runtime, runtime, box):
    answer = client.get(f"/api/v1/items/{box}/history")
    # Built as before caching, and before the checkpoint and entries were read in one
    # statement: the latest checkpoint, then the item's entries, each proven against it.
    with runtime.db.reads() as session:
        checkpoint = latest_checkpoint(session, get_item(session, box).log_id)
        rows = session.execute(
            select(LogEntry.idx, LogEntry.leaf_hash, LogEntry.data).where(LogEntry.item_id == box).order_by(LogEntry.seq)
        ).all()
        trail = prove(session, app_runtime.tiles, checkpoint, [tuple(row) for row in rows])
    expected = History(
        item=box, log=checkpoint.log_id, checkpoint=checkpoint.note, tree_size=checkpoint.tree_size,
        trail=[TrailEntryOut.of(t) for t in trail],
    )
    assert answer.json() == expected.model_dump(mode="json")
    verify_trail(client, answer.json(), ["register", "label", "seal"])
    again = client.get(f"/api/v1/items/{box}/history")  # its proofs now from the cache
    assert again.content == answer.content


def test_an_inclusion_proof_is_computed_once_per_entry_and_tree_size(app_runtime, runtime, box):
    tiles = app_runtime.tiles
    with runtime.db.reads() as session:
        item = get_item(session, box)
        size = item.last_index + 1
        computed = merkle.inclusion_proof(item.registered_index, size, tiles.reader(session, item.log_id, size))
        assert tiles.inclusion_proof(session, item.log_id, item.registered_index, size) == computed
    # Kept: asked again, it needs no database at all.
    assert tiles.inclusion_proof(None, item.log_id, item.registered_index, size) == computed  # type: ignore[arg-type]


# --- The public check page ------------------------------------------------------------


def test_the_check_page_has_an_etag_and_a_304_and_varies_by_language(client, box):
    path = f"/v/{box}"
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "public, max-age=10" and "Cookie" in page.headers["vary"]
    held = _revalidated(client, path, page.headers["etag"])
    assert held.status_code == 304 and held.content == b"" and held.headers["etag"] == page.headers["etag"]
    try:  # the suite shares one client: the language must not stay in its cookie jar
        client.cookies.set("jejak_lang", "en")
        english = client.get(path)
        assert english.headers["etag"] != page.headers["etag"]
        assert _revalidated(client, path, page.headers["etag"]).status_code == 200
        client.cookies.clear()
        # Choosing the language sets this visitor's cookie: no shared cache keeps that answer.
        chosen = client.get(path, params={"lang": "en"})
        assert "set-cookie" in chosen.headers and chosen.headers["cache-control"].startswith("private")
    finally:
        client.cookies.clear()


def test_the_check_page_changes_with_a_new_scan_about_the_box(client, crew, area, box):
    path = f"/v/{box}"
    before = client.get(path)
    accepted(crew["kpu"].send(crew["kpu"].scan("dispatch", box, area.kpu, counterparty=area.ppk, seals=["S-1"])))
    after = _revalidated(client, path, before.headers["etag"])
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    assert after.text != before.text


def test_an_unknown_box_is_not_kept_by_caches(client, area):
    missing = client.get(f"/v/{area.item(2, 'DPD')}")
    assert missing.status_code == 404 and "etag" not in missing.headers
    assert "public" not in missing.headers.get("cache-control", "")


# --- The checkpoint -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/logs/{log}/checkpoint", "/logs/{log}/checkpoint"])
def test_the_checkpoint_is_revalidated_with_its_etag(client, runtime, crew, area, box, path):
    path = path.format(log=area.kpu)
    note = client.get(path)
    assert note.headers["cache-control"] == "no-cache" and note.headers["etag"]
    held = _revalidated(client, path, note.headers["etag"])
    assert held.status_code == 304 and held.content == b""
    crew["kpu"].send(crew["kpu"].scan("seal", box, area.kpu, seals=["S-3"]))
    assert _revalidated(client, path, note.headers["etag"]).status_code == 304  # no new checkpoint yet
    runtime.checkpointer.sign_grown_logs()
    newer = _revalidated(client, path, note.headers["etag"])
    assert newer.status_code == 200 and newer.headers["etag"] != note.headers["etag"]
    assert newer.text.split("\n")[1] != note.text.split("\n")[1]  # a larger tree


# --- Limits that fit carrier-grade NAT ------------------------------------------------


def test_a_crowd_behind_one_address_is_not_refused_by_default(settings, box):
    with own_app(settings, "10.9.0.1") as town:
        answers = {town.get(f"/api/v1/items/{box}/history").status_code for _ in range(150)}
        answers |= {town.get(f"/v/{box}").status_code for _ in range(30)}
    assert answers == {200}


def test_answers_the_client_holds_cost_nothing(settings, box):
    with own_app(settings, "10.9.0.2", public_checks_per_minute=2) as phone:
        history = phone.get(f"/api/v1/items/{box}/history")
        page = phone.get(f"/v/{box}")
        for _ in range(20):
            assert _revalidated(phone, f"/api/v1/items/{box}/history", history.headers["etag"]).status_code == 304
            assert _revalidated(phone, f"/v/{box}", page.headers["etag"]).status_code == 304
        refused = phone.get(f"/api/v1/items/{box}/history")  # a third answer in full
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1


def test_the_process_has_a_budget_whoever_asks(settings, box):
    with own_app(settings, "10.9.0.3", public_checks_per_second=2) as first:
        second = TestClient(first.app, client=("10.9.0.4", 50000))
        assert first.get(f"/api/v1/items/{box}/history").status_code == 200
        assert second.get(f"/v/{box}").status_code == 200
        refused = TestClient(first.app, client=("10.9.0.5", 50000)).get(f"/api/v1/items/{box}/history")
        assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
        page = second.get(f"/v/{box}")
        assert page.status_code == 429 and "Terlalu banyak permintaan" in page.text


def test_a_hash_tile_read_once_is_answered_from_memory(client, runtime, new_log, monkeypatch):
    append(runtime, new_log.id, scans(300))
    path = f"/logs/{new_log.id}/tile/0/000"
    first = client.get(path)
    assert first.status_code == 200 and first.headers["cache-control"] == "public, max-age=31536000, immutable"

    async def no_database(*_):
        raise AssertionError("read from the database again")

    monkeypatch.setattr("api.tiles.quick_read", no_database)
    again = client.get(path)
    assert again.status_code == 200 and again.content == first.content
    with pytest.raises(AssertionError):  # a tile not read before still comes from the database
        client.get(f"/logs/{new_log.id}/tile/0/000.p/44")
