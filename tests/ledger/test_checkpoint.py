"""C2SP tlog-checkpoint bodies and signed checkpoints."""

from __future__ import annotations

import base64

import pytest

from ledger.checkpoint import Checkpoint, CheckpointError, open_checkpoint, sign_checkpoint
from ledger.merkle import EMPTY_ROOT
from ledger.note import NoteError, Signer, Verifier, sign_note

ORIGIN = "jejak.example/log/53.03"
ROOT = base64.b64decode("9VJ4dImEwOiL8qxkknNuQLnk3gqExQv+QtEmXHcKrzQ=")


def test_spec_example_body() -> None:
    # c2sp.org/tlog-checkpoint's example.
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    checkpoint = Checkpoint.parse(body)
    assert (checkpoint.origin, checkpoint.size, checkpoint.extensions) == (
        "example.com/behind-the-sofa",
        20852163,
        (),
    )
    assert checkpoint.body() == body


def test_body_round_trip_with_extensions() -> None:
    checkpoint = Checkpoint(ORIGIN, 13, ROOT, ("ext one", "ext-two"))
    body = checkpoint.body()
    assert body == f"{ORIGIN}\n13\n9VJ4dImEwOiL8qxkknNuQLnk3gqExQv+QtEmXHcKrzQ=\next one\next-two\n"
    assert Checkpoint.parse(body) == checkpoint
    assert Checkpoint.parse(f"{ORIGIN}\n0\n{base64.b64encode(EMPTY_ROOT).decode()}\n").size == 0


@pytest.mark.parametrize(
    "body",
    [
        "",
        f"{ORIGIN}\n13\n",
        f"{ORIGIN}\n13\n9VJ4dImEwOiL8qxkknNuQLnk3gqExQv+QtEmXHcKrzQ=",  # no final newline
        "\n13\n9VJ4dImEwOiL8qxkknNuQLnk3gqExQv+QtEmXHcKrzQ=\n",  # empty origin
        f"{ORIGIN}\n013\n9VJ4dImEwOiL8qxkknNuQLnk3gqExQv+QtEmXHcKrzQ=\n",  # leading zero
        f"{ORIGIN}\n+13\n9VJ4dImEwOiL8qxkknNuQLnk3gqExQv+QtEmXHcKrzQ=\n",
        f"{ORIGIN}\n1_3\n9VJ4dImEwOiL8qxkknNuQLnk3gqExQv+QtEmXHcKrzQ=\n",
        # Arabic-Indic digits
        f"{ORIGIN}\n\u0661\u0663\n9VJ4dImEwOiL8qxkknNuQLnk3gqExQv+QtEmXHcKrzQ=\n",
        f"{ORIGIN}\n 13\n9VJ4dImEwOiL8qxkknNuQLnk3gqExQv+QtEmXHcKrzQ=\n",
        f"{ORIGIN}\n9223372036854775808\n9VJ4dImEwOiL8qxkknNuQLnk3gqExQv+QtEmXHcKrzQ=\n",
        f"{ORIGIN}\n13\n9VJ4dImEwOiL8qxkknNuQLnk3gqExQv+QtEmXHcKrzQ\n",  # unpadded
        f"{ORIGIN}\n13\n9VJ4dImEwOiL8qxkknNuQLnk3gqExQv+QtEmXHcKrzR=\n",  # non-canonical bits
        f"{ORIGIN}\n13\nAAAA\n",  # not 32 bytes
        f"{ORIGIN}\n13\n9VJ4dImEwOiL8qxkknNuQLnk3gqExQv+QtEmXHcKrzQ=\n\n",  # empty extension line
    ],
)
def test_malformed_bodies_are_rejected(body: str) -> None:
    with pytest.raises(CheckpointError):
        Checkpoint.parse(body)


def test_constructor_checks() -> None:
    for args in [
        ("", 1, ROOT),
        ("a\nb", 1, ROOT),
        (ORIGIN, -1, ROOT),
        (ORIGIN, 2**63, ROOT),
        (ORIGIN, 1, b"x"),
    ]:
        with pytest.raises(CheckpointError):
            Checkpoint(*args)
    with pytest.raises(CheckpointError):
        Checkpoint(ORIGIN, 1, ROOT, ("",))


def test_sign_and_open() -> None:
    log = Signer.generate(ORIGIN)
    checkpoint = Checkpoint(ORIGIN, 13, ROOT)
    note = sign_checkpoint(checkpoint, log)
    assert note.startswith(checkpoint.body() + "\n\u2014 " + ORIGIN + " ")
    opened, parsed = open_checkpoint(note, Verifier.from_vkey(log.vkey))
    assert opened == checkpoint
    assert parsed.verified == [ORIGIN]


def test_log_key_must_match_origin() -> None:
    other = Signer.generate("jejak.example/log/53.04")
    with pytest.raises(CheckpointError, match="cannot sign for origin"):
        sign_checkpoint(Checkpoint(ORIGIN, 13, ROOT), other)
    # A note whose origin line is not the verifier's name is refused even if it verifies.
    note = sign_note(Checkpoint(ORIGIN, 13, ROOT).body(), other)
    with pytest.raises(CheckpointError, match="is not the log"):
        open_checkpoint(note, Verifier.from_vkey(other.vkey))


def test_witness_signature_alone_is_not_enough() -> None:
    log, witness = Signer.generate(ORIGIN), Signer.generate("witness.example/w1")
    note = sign_note(Checkpoint(ORIGIN, 13, ROOT).body(), witness)
    with pytest.raises(CheckpointError, match="not signed by the log key"):
        open_checkpoint(note, Verifier.from_vkey(log.vkey), [Verifier.from_vkey(witness.vkey)])
    with pytest.raises(NoteError, match="no signature by a known key"):
        open_checkpoint(note, Verifier.from_vkey(log.vkey))
    with pytest.raises(CheckpointError, match="is the log's own name"):
        open_checkpoint(
            note, Verifier.from_vkey(log.vkey), [Verifier.from_vkey(Signer.generate(ORIGIN).vkey)]
        )


def test_non_checkpoint_note_is_refused() -> None:
    log = Signer.generate(ORIGIN)
    note = sign_note(f"{ORIGIN}\nnot a size\n", log)
    with pytest.raises(CheckpointError):
        open_checkpoint(note, Verifier.from_vkey(log.vkey))
