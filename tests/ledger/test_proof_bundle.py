"""C2SP tlog-proof receipts: encoding, strict parsing, offline verification."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from ledger.checkpoint import Checkpoint, CheckpointError, sign_checkpoint
from ledger.cosignature import CosignatureSigner, CosignatureVerifier, cosign
from ledger.merkle import MemoryTree, ProofError, leaf_hash
from ledger.note import NoteError, Signer, Verifier, add_signatures
from ledger.proof_bundle import ProofBundle, ProofBundleError, verify_bundle

ORIGIN = "jejak.example/log/53.03"
ENTRIES = [f'{{"item":"53.03.08.2001-003-BUP","seq":{i}}}'.encode() for i in range(1, 11)]

# c2sp.org/tlog-proof's example, with its elided signatures replaced by well-formed ones.
SPEC_EXAMPLE_HEAD = (
    "c2sp.org/tlog-proof@v1\n"
    "extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6\n"
    "index 73894\n"
    "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n"
    "B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n"
    "EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n"
    "RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n"
    "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n"
    "\n"
)
SPEC_CHECKPOINT = (
    "example.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n\n"
    "\u2014 example.com/fancylog hI2DJw" + "A" * 85 + "=\n"
)


def test_spec_example_layout() -> None:
    bundle = ProofBundle.parse(SPEC_EXAMPLE_HEAD + SPEC_CHECKPOINT)
    assert bundle.index == 73894
    assert bundle.extra == b"age-v1.2.1-darwin-arm64.tar.gz"
    assert [base64.b64encode(h).decode()[:6] for h in bundle.proof] == [
        "gSKyXo",
        "B95lDa",
        "EKNzoD",
        "RoopEk",
        "AHCioX",
    ]
    assert bundle.checkpoint_note == SPEC_CHECKPOINT
    assert bundle.encode() == SPEC_EXAMPLE_HEAD + SPEC_CHECKPOINT


class Log:
    def __init__(self) -> None:
        self.signer = Signer.generate(ORIGIN)
        self.verifier = Verifier.from_vkey(self.signer.vkey)
        self.tree = MemoryTree()
        self.tree.extend(leaf_hash(e) for e in ENTRIES)
        self.checkpoint = Checkpoint(ORIGIN, self.tree.size, self.tree.root())
        self.note = sign_checkpoint(self.checkpoint, self.signer)

    def bundle(
        self, index: int, note: str | None = None, extra: bytes | None = None
    ) -> ProofBundle:
        return ProofBundle(index, self.tree.inclusion_proof(index), note or self.note, extra)


def test_round_trip_and_verify() -> None:
    log = Log()
    for index, entry in enumerate(ENTRIES):
        for extra in (None, b"", b"\x00context"):
            bundle = log.bundle(index, extra=extra)
            text = bundle.encode()
            assert ProofBundle.parse(text) == bundle
            assert verify_bundle(ProofBundle.parse(text), entry, log.verifier) == log.checkpoint
    assert log.bundle(0, extra=b"").encode().split("\n")[1] == "extra "
    assert log.bundle(0).encode().split("\n")[1] == "index 0"


def test_single_entry_tree_has_no_proof_lines() -> None:
    signer = Signer.generate(ORIGIN)
    note = sign_checkpoint(Checkpoint(ORIGIN, 1, leaf_hash(b"only")), signer)
    bundle = ProofBundle(0, [], note)
    assert bundle.encode() == "c2sp.org/tlog-proof@v1\nindex 0\n\n" + note
    assert (
        verify_bundle(
            ProofBundle.parse(bundle.encode()), b"only", Verifier.from_vkey(signer.vkey)
        ).size
        == 1
    )


def test_wrong_entry_index_or_log_fails() -> None:
    log = Log()
    bundle = log.bundle(3)
    with pytest.raises(ProofError):
        verify_bundle(bundle, ENTRIES[4], log.verifier)
    with pytest.raises(ProofError):
        verify_bundle(
            ProofBundle(4, bundle.proof, bundle.checkpoint_note), ENTRIES[3], log.verifier
        )
    with pytest.raises(ProofError):
        verify_bundle(
            ProofBundle(3, bundle.proof[:-1], bundle.checkpoint_note), ENTRIES[3], log.verifier
        )
    with pytest.raises(NoteError):
        verify_bundle(bundle, ENTRIES[3], Verifier.from_vkey(Signer.generate(ORIGIN).vkey))
    other = Signer.generate("jejak.example/log/53.04")
    with pytest.raises(NoteError):
        verify_bundle(bundle, ENTRIES[3], Verifier.from_vkey(other.vkey))
    renamed = "x" + bundle.checkpoint_note
    with pytest.raises(NoteError):
        verify_bundle(ProofBundle(3, bundle.proof, renamed), ENTRIES[3], log.verifier)
    tampered = bundle.checkpoint_note.replace(f"\n{len(ENTRIES)}\n", f"\n{len(ENTRIES) + 1}\n")
    with pytest.raises(NoteError, match="does not verify"):
        verify_bundle(ProofBundle(3, bundle.proof, tampered), ENTRIES[3], log.verifier)


def test_witness_quorum() -> None:
    log = Log()
    body = log.checkpoint.body()
    witnesses = [CosignatureSigner.generate(f"w{i}.example") for i in range(3)]
    verifiers = [CosignatureVerifier.from_vkey(w.vkey) for w in witnesses]
    cosigned = add_signatures(
        log.note, [cosign(body, w, 1_700_000_000 + i) for i, w in enumerate(witnesses[:2])]
    )
    bundle = log.bundle(5, cosigned)
    assert verify_bundle(bundle, ENTRIES[5], log.verifier, verifiers, quorum=2) == log.checkpoint
    with pytest.raises(ProofBundleError, match="2 verified witness cosignatures, 3 required"):
        verify_bundle(bundle, ENTRIES[5], log.verifier, verifiers, quorum=3)
    with pytest.raises(ProofBundleError, match="0 verified witness cosignatures, 1 required"):
        verify_bundle(log.bundle(5), ENTRIES[5], log.verifier, verifiers, quorum=1)
    with pytest.raises(ValueError, match="quorum 4"):
        verify_bundle(bundle, ENTRIES[5], log.verifier, verifiers, quorum=4)
    with pytest.raises(CheckpointError, match="the log's own name"):
        verify_bundle(bundle, ENTRIES[5], log.verifier, [log.verifier])


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"),
        lambda s: s.replace("c2sp.org/tlog-proof@v1\n", ""),
        lambda s: s.replace("index 3", "index 03"),
        lambda s: s.replace("index 3", "index -3"),
        lambda s: s.replace("index 3", "index  3"),
        lambda s: s.replace("index 3", "index 9223372036854775808"),
        lambda s: s.replace("index 3", "idx 3"),
        lambda s: s.replace("index 3\n", ""),
        lambda s: s.replace("index 3\n", "index 3\nextra AAAA\n"),
        lambda s: s.replace("index 3\n", "extra AAA\nindex 3\n"),
        lambda s: s.replace("index 3\n", "index 3\r\n"),
        lambda s: s.replace("index 3\n", "index 3\nAAAA\n"),
        lambda s: s.replace("=\n\n", "\n\n", 1),
        lambda s: s.replace("\n\n", "\n", 1),
        lambda s: s.replace("\n\n", "\n\n\n", 1),
        lambda s: s[: s.index("\n\n") + 2],
        lambda s: s[:-1],
        lambda s: s.replace("\n\n", "\n\n" + "x\n", 1),
    ],
)
def test_malformed_bundles_are_rejected(mangle: Callable[[str], str]) -> None:
    text = Log().bundle(3).encode()
    with pytest.raises(ValueError):
        ProofBundle.parse(mangle(text))


def test_proof_line_limit() -> None:
    log = Log()
    head = "c2sp.org/tlog-proof@v1\nindex 0\n" + (base64.b64encode(bytes(32)).decode() + "\n") * 64
    with pytest.raises(ProofBundleError, match="64 hashes, at most 63"):
        ProofBundle.parse(head + "\n" + log.note)


def test_constructor_checks() -> None:
    log = Log()
    with pytest.raises(ProofBundleError):
        ProofBundle(-1, [], log.note)
    with pytest.raises(ProofBundleError):
        ProofBundle(0, [b"short"], log.note)
    with pytest.raises(ProofBundleError, match="not a signed checkpoint note"):
        ProofBundle(0, [], log.checkpoint.body())
