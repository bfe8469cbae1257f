"""C2SP tlog-witness: the add-checkpoint body, the answers, and the witness's checks."""

from __future__ import annotations

import hashlib

import pytest

from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.cosignature import COSIGNATURE_SIZE
from ledger.encoding import b64encode
from ledger.merkle import EMPTY_ROOT, MemoryTree, leaf_hash
from ledger.note import Signer, Verifier, add_signatures
from ledger.witness import (
    AddCheckpoint,
    InconsistentProof,
    MalformedRequest,
    RootMismatch,
    StaleSize,
    UnknownLog,
    UntrustedSignature,
    check_extends,
    encode_size,
    parse_cosignatures,
    parse_size,
    open_submission,
)

# The example request and answer of c2sp.org/tlog-witness, verbatim.
SPEC_REQUEST = """old 20852014
PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=
""".encode()
SPEC_ANSWER = """— witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==
— witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64vWhO+DlkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==
— witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==
""".encode()

ORIGIN = "jejak.example/log/53.03"
LOG_KEY = Signer.generate(ORIGIN)
TRUSTED = {ORIGIN: [Verifier.from_vkey(LOG_KEY.vkey)]}


def _tree(size: int, salt: bytes = b"") -> MemoryTree:
    tree = MemoryTree()
    tree.extend(leaf_hash(salt + b"entry %d" % i) for i in range(size))
    return tree


def _request(tree: MemoryTree, size: int, old: int, proof: list[bytes] | None = None) -> AddCheckpoint:
    note = sign_checkpoint(Checkpoint(ORIGIN, size, tree.root(size)), LOG_KEY)
    if proof is None:
        proof = tree.consistency_proof(old, size) if old else []
    return AddCheckpoint(old, tuple(proof), note)


def _witness_checks(request: AddCheckpoint, cosigned: tuple[int, bytes] | None) -> Checkpoint:
    checkpoint = open_submission(request, TRUSTED)
    check_extends(request, checkpoint, cosigned)
    return checkpoint


def test_the_specs_example_request_parses_and_encodes_back_byte_for_byte() -> None:
    request = AddCheckpoint.parse(SPEC_REQUEST)
    assert request.old_size == 20852014
    assert [b64encode(h) for h in request.proof] == SPEC_REQUEST.decode().split("\n")[1:5]
    assert request.checkpoint_note.startswith("example.com/behind-the-sofa\n20852163\n")
    assert request.encode() == SPEC_REQUEST


def test_the_specs_example_answer_is_three_cosignatures() -> None:
    signatures = parse_cosignatures(SPEC_ANSWER)
    assert [s.name for s in signatures] == ["witness.example/w1"] * 2 + ["witness.example/w2"]
    assert {len(s.signature) for s in signatures} == {COSIGNATURE_SIZE}


def test_a_request_without_a_proof_has_the_empty_line_right_after_old() -> None:
    request = _request(_tree(3), 3, 0)
    assert request.encode().startswith(b"old 0\n\njejak.example/log/53.03\n3\n")
    assert AddCheckpoint.parse(request.encode()) == request


def test_the_409_body_is_the_size_and_a_newline() -> None:
    assert encode_size(20852014) == b"20852014\n"
    assert parse_size(b"20852014\n") == 20852014
    assert parse_size(b"0\n") == 0


@pytest.mark.parametrize("body", [b"", b"50", b"050\n", b"-1\n", b" 5\n", b"5\n\n", b"\xff\n"])
def test_a_malformed_409_body_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedRequest):
        parse_size(body)


GOOD = _request(_tree(5), 5, 3).encode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(GOOD.replace(b"\n\njejak", b"\njejak"), id="no empty line"),
        pytest.param(GOOD.replace(b"old 3", b"old  3"), id="two spaces"),
        pytest.param(GOOD.replace(b"old 3", b"old 03"), id="leading zero"),
        pytest.param(GOOD.replace(b"old 3", b"old -3"), id="negative"),
        pytest.param(GOOD.replace(b"old 3", b"new 3"), id="not old"),
        pytest.param(GOOD.replace(b"old 3\n", b"old 3\n!!!!\n"), id="proof not base64"),
        pytest.param(GOOD.replace(b"old 3\n", b"old 3\n" + b64encode(b"x" * 31).encode() + b"\n"),
                     id="proof hash of 31 bytes"),
        pytest.param(b"old 3\n" + (b64encode(bytes(32)) + "\n").encode() * 64 + b"\n" + GOOD.split(b"\n\n", 1)[1],
                     id="64 proof lines"),
        pytest.param(GOOD.replace(b"old 3", b"old 3\xff"), id="not UTF-8"),
    ],
)
def test_a_malformed_request_body_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedRequest):
        AddCheckpoint.parse(body)


def test_a_request_cannot_be_built_with_a_wrong_proof_shape() -> None:
    note = _request(_tree(1), 1, 0).checkpoint_note
    with pytest.raises(MalformedRequest, match="33 bytes"):
        AddCheckpoint(1, (bytes(33),), note)
    with pytest.raises(MalformedRequest, match="at most 63"):
        AddCheckpoint(1, (bytes(32),) * 64, note)


def test_a_witness_cosigns_what_extends_its_last_checkpoint() -> None:
    tree = _tree(20)
    first = _witness_checks(_request(tree, 7, 0), None)
    second = _witness_checks(_request(tree, 20, 7), (first.size, first.root))
    assert (second.size, second.root) == (20, tree.root())
    # The same checkpoint again: old is its own size and the proof is empty.
    _witness_checks(_request(tree, 20, 20), (20, tree.root()))


def test_signatures_by_other_keys_are_ignored() -> None:
    request = _request(_tree(4), 4, 0)
    other = sign_checkpoint(Checkpoint(ORIGIN, 4, _tree(4).root()), Signer.generate(ORIGIN))
    extra = other[other.rindex("\n\n") + 2 :]
    both = AddCheckpoint(0, (), add_signatures(request.checkpoint_note, [extra]))
    assert _witness_checks(both, None).size == 4


def test_an_unknown_origin_is_404() -> None:
    note = sign_checkpoint(Checkpoint("other.example/log", 1, leaf_hash(b"")), Signer.generate("other.example/log"))
    with pytest.raises(UnknownLog) as refused:
        open_submission(AddCheckpoint(0, (), note), TRUSTED)
    assert refused.value.status == 404


def test_a_checkpoint_not_signed_by_a_trusted_key_is_403() -> None:
    impostor = sign_checkpoint(Checkpoint(ORIGIN, 1, leaf_hash(b"")), Signer.generate(ORIGIN))
    with pytest.raises(UntrustedSignature) as refused:
        open_submission(AddCheckpoint(0, (), impostor), TRUSTED)
    assert refused.value.status == 403


def test_a_trusted_keys_signature_that_fails_is_403() -> None:
    note = _request(_tree(2), 2, 0).checkpoint_note
    forged = note.replace("\n2\n", "\n3\n", 1)  # the log signed size 2, not 3
    with pytest.raises(UntrustedSignature):
        open_submission(AddCheckpoint(0, (), forged), TRUSTED)


def test_old_past_the_checkpoints_size_is_400() -> None:
    request = _request(_tree(5), 5, 0)
    with pytest.raises(MalformedRequest, match="larger than") as refused:
        open_submission(AddCheckpoint(6, (), request.checkpoint_note), TRUSTED)
    assert refused.value.status == 400


def test_a_note_that_is_not_a_checkpoint_is_400() -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 1, leaf_hash(b"")), LOG_KEY).replace("\n1\n", "\nx\n")
    with pytest.raises(MalformedRequest):
        open_submission(AddCheckpoint(0, (), note), TRUSTED)


@pytest.mark.parametrize(("old", "cosigned_size"), [(5, None), (0, 5), (3, 5), (5, 3)])
def test_old_other_than_the_last_cosigned_size_is_409_with_that_size(old, cosigned_size) -> None:
    tree = _tree(9)
    cosigned = (cosigned_size, tree.root(cosigned_size)) if cosigned_size else None
    with pytest.raises(StaleSize) as refused:
        _witness_checks(_request(tree, 9, old), cosigned)
    assert refused.value.status == 409
    assert refused.value.size == (cosigned_size or 0)


def test_a_second_root_for_the_cosigned_size_is_409() -> None:
    forked = _tree(6, salt=b"fork")
    with pytest.raises(RootMismatch) as refused:
        _witness_checks(_request(forked, 6, 6), (6, _tree(6).root()))
    assert refused.value.status == 409


def test_a_fork_at_a_larger_size_is_422() -> None:
    honest, forked = _tree(6), _tree(10, salt=b"fork")
    # A proof the forked tree really has, and a made-up one: neither reaches the honest root.
    for proof in (forked.consistency_proof(6, 10), honest.consistency_proof(5, 6) + [bytes(32)]):
        with pytest.raises(InconsistentProof) as refused:
            _witness_checks(_request(forked, 10, 6, proof), (6, honest.root()))
        assert refused.value.status == 422


def test_a_proof_from_size_zero_must_be_empty() -> None:
    tree = _tree(4)
    with pytest.raises(InconsistentProof, match="must be empty"):
        _witness_checks(_request(tree, 4, 0, [tree.root(2)]), None)


def test_an_empty_checkpoint_must_carry_the_empty_root() -> None:
    _witness_checks(AddCheckpoint(0, (), sign_checkpoint(Checkpoint(ORIGIN, 0, EMPTY_ROOT), LOG_KEY)), None)
    lying = sign_checkpoint(Checkpoint(ORIGIN, 0, hashlib.sha256(b"x").digest()), LOG_KEY)
    with pytest.raises(InconsistentProof):
        _witness_checks(AddCheckpoint(0, (), lying), None)
