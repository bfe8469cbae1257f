"""Witnesses: the `jejak witness` service's answers (C2SP tlog-witness), its state, and
the log's side: submitting checkpoints, storing and serving cosignatures, and the
cosignatures witnesses push."""

from __future__ import annotations

import logging
import stat
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from api.app import create_app
from ledger.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.cosignature import CosignatureSigner, CosignatureVerifier, cosign, verify_cosignature
from ledger.merkle import MemoryTree, leaf_hash
from ledger.note import Signer, Verifier, add_signatures, parse_note
from ledger.witness import SIZE_CONTENT_TYPE, AddCheckpoint
from models.core.settings import Settings
from models.log.checkpointer import Checkpointer
from models.log.reads import latest_checkpoint
from models.log.tables import LogCosignature
from models.log.witnesses import Cosigners, Witness as LogWitness, WitnessClient
from scripts.cli import main as jejak
from scripts.witness import Witness, WitnessState, create_app as witness_app, load_key
from tests.helpers import append, scans, wait_for

ORIGIN = "jejak.example/log/53.03"


def _tree(size: int, salt: bytes = b"") -> MemoryTree:
    tree = MemoryTree()
    tree.extend(leaf_hash(salt + b"entry %d" % i) for i in range(size))
    return tree


def _body(log_key: Signer, tree: MemoryTree, size: int, old: int, proof=None) -> bytes:
    note = sign_checkpoint(Checkpoint(log_key.name, size, tree.root(size)), log_key)
    if proof is None:
        proof = tree.consistency_proof(old, size) if old else []
    return AddCheckpoint(old, tuple(proof), note).encode()


def _witness(state: WitnessState, *log_keys: Signer, name: str = "saksi.example/w1") -> Witness:
    logs = [Verifier.from_vkey(key.vkey) for key in log_keys]
    return Witness(CosignatureSigner.generate(name), logs, state)


# The witness service


@pytest.fixture
def log_key() -> Signer:
    return Signer.generate(ORIGIN)


@pytest.fixture
def witness(tmp_path, log_key) -> Witness:
    return _witness(WitnessState(tmp_path / "witness.db"), log_key)


@pytest.fixture
def http(witness) -> TestClient:
    return TestClient(witness_app(witness))


def test_the_witness_cosigns_a_checkpoint_and_then_its_growth(http, witness, log_key):
    tree = _tree(12)
    before = int(time.time())
    first = http.post("/add-checkpoint", content=_body(log_key, tree, 5, 0))
    assert first.status_code == 200, first.text
    body = Checkpoint(ORIGIN, 5, tree.root(5)).body()
    key = CosignatureVerifier.from_vkey(witness.signer.vkey)
    assert before <= verify_cosignature(body, first.text, key) <= time.time()
    assert witness.state.latest(ORIGIN) == (5, tree.root(5))

    second = http.post("/add-checkpoint", content=_body(log_key, tree, 12, 5))
    assert second.status_code == 200, second.text
    verify_cosignature(Checkpoint(ORIGIN, 12, tree.root()).body(), second.text, key)
    assert witness.state.latest(ORIGIN) == (12, tree.root())


def test_a_malformed_body_is_400(http):
    answer = http.post("/add-checkpoint", content=b"old 0\nnot a checkpoint")
    assert answer.status_code == 400
    assert "empty line" in answer.text


def test_old_past_the_checkpoint_size_is_400(http, log_key):
    tree = _tree(3)
    note = sign_checkpoint(Checkpoint(ORIGIN, 3, tree.root()), log_key)
    answer = http.post("/add-checkpoint", content=AddCheckpoint(4, (), note).encode())
    assert answer.status_code == 400


def test_an_unknown_origin_is_404(http):
    stranger = Signer.generate("other.example/log/1")
    answer = http.post("/add-checkpoint", content=_body(stranger, _tree(2), 2, 0))
    assert answer.status_code == 404


def test_a_checkpoint_not_signed_by_the_log_key_is_403(http, witness):
    impostor = Signer.generate(ORIGIN)
    answer = http.post("/add-checkpoint", content=_body(impostor, _tree(2), 2, 0))
    assert answer.status_code == 403
    assert witness.state.latest(ORIGIN) is None


def test_old_other_than_the_last_cosigned_size_is_409_with_that_size(http, log_key):
    tree = _tree(9)
    assert http.post("/add-checkpoint", content=_body(log_key, tree, 5, 0)).status_code == 200
    answer = http.post("/add-checkpoint", content=_body(log_key, tree, 9, 0))
    assert answer.status_code == 409
    assert answer.headers["content-type"] == SIZE_CONTENT_TYPE  # exactly, no charset
    assert answer.content == b"5\n"


def test_a_second_root_at_the_cosigned_size_is_409_and_changes_nothing(http, witness, log_key):
    honest = _tree(5)
    assert http.post("/add-checkpoint", content=_body(log_key, honest, 5, 0)).status_code == 200
    answer = http.post("/add-checkpoint", content=_body(log_key, _tree(5, b"fork"), 5, 5))
    assert answer.status_code == 409
    assert answer.headers["content-type"] != SIZE_CONTENT_TYPE  # not a stale size: a fork
    assert witness.state.latest(ORIGIN) == (5, honest.root())


def test_a_fork_at_a_larger_size_is_422_logged_and_changes_nothing(http, witness, log_key, caplog):
    honest, forked = _tree(5), _tree(8, b"fork")
    assert http.post("/add-checkpoint", content=_body(log_key, honest, 5, 0)).status_code == 200
    fork = _body(log_key, forked, 8, 5)  # the forked tree's own proof from 5
    with caplog.at_level(logging.WARNING, "jejak.witness"):
        answer = http.post("/add-checkpoint", content=fork)
    assert answer.status_code == 422
    assert witness.state.latest(ORIGIN) == (5, honest.root())
    assert fork.decode() in caplog.text  # the log-signed evidence is kept in the log


def test_a_body_over_the_limit_is_413(http):
    assert http.post("/add-checkpoint", content=b"x" * 70_000).status_code == 413


class _RacingState(WitnessState):
    """Holds every request's first read until all have read: they all start from the
    same old size, the race the spec warns about."""

    def __init__(self, path, parties: int) -> None:
        super().__init__(path)
        self._barrier = threading.Barrier(parties)
        self._reads = 0
        self._lock = threading.Lock()

    def latest(self, origin):
        found = super().latest(origin)
        with self._lock:
            self._reads += 1
            first_reads = self._reads <= self._barrier.parties
        if first_reads:
            self._barrier.wait(timeout=10)
        return found


def test_requests_from_the_same_old_size_advance_the_state_once(tmp_path, log_key):
    sizes = [3, 4, 5, 6]
    witness = _witness(_RacingState(tmp_path / "race.db", len(sizes)), log_key)
    tree = _tree(max(sizes))
    answers: dict[int, int | Exception] = {}

    def submit(size: int) -> None:
        try:
            witness.add_checkpoint(_body(log_key, tree, size, 0))
            answers[size] = 200
        except Exception as refusal:  # noqa: BLE001 - kept for the assertions
            answers[size] = refusal

    threads = [threading.Thread(target=submit, args=(size,)) for size in sizes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [size for size, answer in answers.items() if answer == 200]
    assert len(winners) == 1
    assert witness.state.latest(ORIGIN) == (winners[0], tree.root(winners[0]))
    for size in set(sizes) - set(winners):
        assert getattr(answers[size], "status", None) == 409
        assert answers[size].size == winners[0]


def test_the_state_outlives_the_process(tmp_path, log_key):
    tree = _tree(7)
    path = tmp_path / "kept.db"
    _witness(WitnessState(path), log_key).add_checkpoint(_body(log_key, tree, 7, 0))
    restarted = TestClient(witness_app(_witness(WitnessState(path), log_key)))
    answer = restarted.post("/add-checkpoint", content=_body(log_key, tree, 7, 0))
    assert (answer.status_code, answer.content) == (409, b"7\n")


def test_jejak_witness_key_create_writes_a_private_key_and_prints_the_verifier(tmp_path, capsys):
    path = tmp_path / "saksi.key"
    assert jejak(["witness", "key", "create", "bawaslu.example/saksi", "--out", str(path)]) == 0
    vkey = capsys.readouterr().out.strip()
    verifier = CosignatureVerifier.from_vkey(vkey)
    assert verifier.name == "bawaslu.example/saksi"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key(path).vkey == vkey
    kept = path.read_text()
    assert jejak(["witness", "key", "create", "bawaslu.example/saksi", "--out", str(path)]) == 1
    assert "never silently replaced" in capsys.readouterr().err
    assert path.read_text() == kept


# The log's side


@pytest.fixture
def log_witness(tmp_path, new_log):
    """A witness of `new_log`, and the log's client for it (talking to it in-process)."""
    state = WitnessState(tmp_path / "witness.db")
    witness = Witness(
        CosignatureSigner.generate("saksi.example/w1"), [Verifier.from_vkey(new_log.verifier_key)], state
    )
    return witness, LogWitness("http://w1.test", CosignatureVerifier.from_vkey(witness.signer.vkey))


def _client(runtime, configured: LogWitness, witness: Witness) -> tuple[WitnessClient, list[int]]:
    statuses: list[int] = []
    http = TestClient(witness_app(witness), base_url=configured.url)
    http.event_hooks["response"] = [lambda response: statuses.append(response.status_code)]
    return WitnessClient(configured, runtime.db, runtime.tiles, http), statuses


def _grow(runtime, log_id: str, count: int, start: int = 0) -> None:
    append(runtime, log_id, scans(count, start=start))
    runtime.checkpointer.sign_grown_logs()


def _cosigned_by(note: str, log_vkey: str, *keys: CosignatureVerifier) -> tuple[Checkpoint, list[str]]:
    checkpoint, opened = open_checkpoint(note, Verifier.from_vkey(log_vkey), keys)
    return checkpoint, [name for name in opened.verified if name != checkpoint.origin]


def test_the_log_submits_its_checkpoints_and_serves_them_cosigned(runtime, client, new_log, log_witness):
    witness, configured = log_witness
    submitter, statuses = _client(runtime, configured, witness)
    _grow(runtime, new_log.id, 10)
    assert submitter.submit(new_log.id)
    _grow(runtime, new_log.id, 6, start=10)
    assert submitter.submit(new_log.id)  # from size 10, with a consistency proof
    assert statuses == [200, 200]
    assert witness.state.latest(new_log.origin)[0] == 16

    for path in (f"/api/v1/logs/{new_log.id}/checkpoint", f"/logs/{new_log.id}/checkpoint"):
        checkpoint, cosigned = _cosigned_by(client.get(path).text, new_log.verifier_key, configured.key)
        assert (checkpoint.size, cosigned) == (16, [configured.name])
    assert submitter.submit(new_log.id)  # nothing new: nothing sent
    assert statuses == [200, 200]


def test_on_409_the_log_learns_the_witness_size_and_retries_once(runtime, new_log, log_witness):
    witness, configured = log_witness
    submitter, statuses = _client(runtime, configured, witness)
    _grow(runtime, new_log.id, 8)
    # The witness cosigned size 8 for someone else (a restored database, another server):
    with runtime.db.reads() as session:
        witness.add_checkpoint(AddCheckpoint(0, (), latest_checkpoint(session, new_log.id).note).encode())
    _grow(runtime, new_log.id, 4, start=8)
    assert submitter.submit(new_log.id)
    assert statuses == [409, 200]
    assert witness.state.latest(new_log.origin)[0] == 12


def test_a_witness_refusing_a_checkpoint_stores_nothing(runtime, new_log, tmp_path):
    # A witness configured with another key for this origin answers 403.
    stranger = _witness(WitnessState(tmp_path / "w.db"), Signer.generate(new_log.origin))
    configured = LogWitness("http://w.test", CosignatureVerifier.from_vkey(stranger.signer.vkey))
    submitter, statuses = _client(runtime, configured, stranger)
    _grow(runtime, new_log.id, 3)
    assert submitter.submit(new_log.id)  # refused for good: no retry
    assert statuses == [403]
    assert _stored(runtime, new_log.id) == []


def _stored(runtime, log_id: str) -> list[tuple[int, str]]:
    with runtime.db.reads() as session:
        rows = session.execute(
            select(LogCosignature.tree_size, LogCosignature.witness)
            .where(LogCosignature.log_id == log_id)
        )
        return sorted(tuple(row) for row in rows)


def test_a_hanging_witness_delays_neither_signing_nor_the_other_witness(runtime, new_log, log_witness):
    witness, live = log_witness
    hung_key = CosignatureVerifier.from_vkey(CosignatureSigner.generate("hung").vkey)
    hung = LogWitness("http://hung.test", hung_key)
    entered, left, release = threading.Event(), threading.Event(), threading.Event()
    live_http = TestClient(witness_app(witness), base_url=live.url)

    def network(request: httpx.Request) -> httpx.Response:
        if request.url.host == "hung.test":
            entered.set()
            release.wait(15)
            left.set()
            raise httpx.ConnectError("down", request=request)
        answer = live_http.post(str(request.url), content=request.content)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    cosigners = Cosigners(runtime.db, runtime.tiles, [hung, live], transport=httpx.MockTransport(network))
    checkpointer = Checkpointer(runtime.db, runtime.tiles, runtime.keys, 1, cosigners.submit)
    try:
        append(runtime, new_log.id, scans(5))
        checkpointer.sign_grown_logs()
        assert _signed_size(runtime, new_log.id) == 5
        assert entered.wait(10)  # the hung witness holds its first request...
        append(runtime, new_log.id, scans(5, start=5))
        checkpointer.sign_grown_logs()
        assert _signed_size(runtime, new_log.id) == 10  # ...signing goes on
        assert not left.is_set()
        wait_for(lambda: (10, live.name) in _stored(runtime, new_log.id), "the live witness's cosignature", timeout=20)
        assert hung.name not in {name for _, name in _stored(runtime, new_log.id)}
    finally:
        release.set()
        cosigners.stop()


def _signed_size(runtime, log_id: str) -> int:
    with runtime.db.session() as session:
        return latest_checkpoint(session, log_id).tree_size


def test_stored_cosignatures_refuse_update_and_delete(runtime, new_log, log_witness):
    witness, configured = log_witness
    _grow(runtime, new_log.id, 2)
    submitter, _ = _client(runtime, configured, witness)
    assert submitter.submit(new_log.id)
    for statement in ("UPDATE log_cosignatures SET signature = :junk WHERE log_id = :log",
                      "DELETE FROM log_cosignatures WHERE log_id = :log"):
        with pytest.raises(DatabaseError, match="on log_cosignatures refused: this table is append-only"):
            with runtime.db.engine.begin() as connection:
                connection.execute(text(statement), {"junk": b"x" * 72, "log": new_log.id})
    assert _stored(runtime, new_log.id) == [(2, configured.name)]


# Witnesses pushing their cosignatures, and the configuration


PUSHER = CosignatureSigner.generate("saksi.example/push")


@pytest.fixture(scope="module")
def witnessed(settings: Settings) -> Iterator[TestClient]:
    """The API of a service configured with the witness PUSHER."""
    configured = settings.model_copy(update={"witnesses": (("http://saksi.example", PUSHER.vkey),)})
    app = create_app(configured, start_background=False)
    yield TestClient(app)
    app.state.runtime.close()


def _pushed(runtime, log_id: str, signer: CosignatureSigner = PUSHER) -> str:
    with runtime.db.reads() as session:
        note = latest_checkpoint(session, log_id).note
    return add_signatures(note, [cosign(parse_note(note).text, signer, int(time.time()))])


def test_a_configured_witness_pushes_a_cosignature(runtime, witnessed, new_log):
    _grow(runtime, new_log.id, 4)
    pushed = _pushed(runtime, new_log.id)
    answer = witnessed.post(f"/api/v1/logs/{new_log.id}/cosignatures", content=pushed)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"log": new_log.id, "tree_size": 4, "witnesses": [PUSHER.name]}
    again = witnessed.post(f"/api/v1/logs/{new_log.id}/cosignatures", content=pushed)
    assert again.status_code == 200  # the first one is kept
    served = witnessed.get(f"/api/v1/logs/{new_log.id}/checkpoint").text
    key = CosignatureVerifier.from_vkey(PUSHER.vkey)
    assert _cosigned_by(served, new_log.verifier_key, key)[1] == [PUSHER.name]
    assert served.count(f"\u2014 {PUSHER.name} ") == 1


def test_pushed_cosignatures_are_refused_unless_they_verify(runtime, witnessed, new_log):
    _grow(runtime, new_log.id, 3)
    url = f"/api/v1/logs/{new_log.id}/cosignatures"
    stranger = _pushed(runtime, new_log.id, CosignatureSigner.generate("saksi.example/push"))
    genuine = _pushed(runtime, new_log.id)
    line = genuine[genuine.rindex("\u2014 "):]
    signature = line.split(" ")[2]
    flipped = "A" if signature[20] != "A" else "B"
    tampered = genuine.replace(signature, signature[:20] + flipped + signature[21:])
    with runtime.db.reads() as session:
        stored = latest_checkpoint(session, new_log.id)
    other_root = sign_checkpoint(
        Checkpoint(new_log.origin, 3, leaf_hash(b"fork")), Signer.generate(new_log.origin)
    )
    unsigned_size = Checkpoint(new_log.origin, 99, stored.root_hash).body() + "\n" + line
    cases = {
        "a key not configured": (stranger, 403),
        "a signature that does not verify": (tampered, 403),
        "the log's own note, no cosignature": (stored.note, 403),
        "a size the log never signed": (unsigned_size, 404),
        "another root at a signed size": (add_signatures(other_root, [line]), 409),
        "not a note": ("hello\n", 400),
        "another log's checkpoint": (genuine.replace(new_log.origin, "jejak.test/log/00.00"), 400),
    }
    for case, (body, status) in cases.items():
        answer = witnessed.post(url, content=body)
        assert (case, answer.status_code) == (case, status), answer.text
        assert answer.headers["content-type"] == "application/problem+json"
    assert witnessed.post(url, content=b"\xff\n").status_code == 400
    assert witnessed.post("/api/v1/logs/00.00/cosignatures", content=genuine).status_code == 404
    assert _stored(runtime, new_log.id) == []


def test_the_log_list_names_the_witnesses(witnessed, client):
    assert witnessed.get("/api/v1/logs").json()["witnesses"] == [
        {"name": PUSHER.name, "verifier_key": PUSHER.vkey}
    ]
    assert client.get("/api/v1/logs").json()["witnesses"] == []


def test_jejak_witnesses_setting():
    one, two = CosignatureSigner.generate("a.example/w"), CosignatureSigner.generate("b.example/w")
    parsed = Settings(witnesses=f"https://a.example/w/ {one.vkey},\n  http://10.0.0.2:7380 {two.vkey}\n")
    assert parsed.witnesses == (("https://a.example/w", one.vkey), ("http://10.0.0.2:7380", two.vkey))
    assert Settings(witnesses="").witnesses == ()
    for wrong in (one.vkey, f"a.example {one.vkey}", f"https://a.example {one.vkey[:-2]}",
                  f"https://a {one.vkey}, https://b {one.vkey}"):
        with pytest.raises(ValidationError):
            Settings(witnesses=wrong)
