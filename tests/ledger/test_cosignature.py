"""C2SP tlog-cosignature/v1: witness cosignatures on checkpoints."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ledger.cosignature import (
    CosignatureError,
    CosignatureSigner,
    CosignatureVerifier,
    cosign,
    cosigned_message,
    verify_cosignature,
)
from ledger.note import (
    NoteError,
    NoteSignature,
    Signer,
    Verifier,
    add_signatures,
    open_note,
    parse_signature_line,
)

ORIGIN = "jejak.example/log/53.03"
# The checkpoint body of c2sp.org/tlog-cosignature's example and its signed message.
SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SPEC_MESSAGE = (
    "cosignature/v1\ntime 1679315147\n"
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)
SEED = bytes(range(32))


def test_signed_message_matches_spec() -> None:
    assert cosigned_message(SPEC_BODY.encode(), 1679315147) == SPEC_MESSAGE.encode()


def test_cosignature_built_independently() -> None:
    # Ed25519 is deterministic: rebuild the line from the spec's definitions alone.
    private = Ed25519PrivateKey.from_private_bytes(SEED)
    public = private.public_key().public_bytes_raw()
    name = "witness.example.com/w1"
    expected_id = hashlib.sha256(name.encode() + b"\n\x04" + public).digest()[:4]
    signature = (1679315147).to_bytes(8, "big") + private.sign(SPEC_MESSAGE.encode())
    expected = f"\u2014 {name} {base64.b64encode(expected_id + signature).decode()}\n"
    signer = CosignatureSigner(name, private)
    assert signer.key_id == expected_id
    assert cosign(SPEC_BODY, signer, 1679315147) == expected
    key64 = base64.b64encode(b"\x04" + public).decode()
    assert signer.vkey == f"{name}+{expected_id.hex()}+{key64}"
    assert (
        verify_cosignature(SPEC_BODY, expected, CosignatureVerifier.from_vkey(signer.vkey))
        == 1679315147
    )


def test_keys_round_trip_and_are_typed() -> None:
    signer = CosignatureSigner.generate("witness.example/w1")
    assert CosignatureSigner.from_skey(signer.skey).vkey == signer.vkey
    verifier = CosignatureVerifier.from_vkey(signer.vkey)
    assert (verifier.name, verifier.key_id, verifier.vkey) == (
        signer.name,
        signer.key_id,
        signer.vkey,
    )
    # A cosignature key is not a note key and vice versa.
    with pytest.raises(NoteError, match="expected 0x01"):
        Verifier.from_vkey(signer.vkey)
    with pytest.raises(NoteError, match="expected 0x04"):
        CosignatureVerifier.from_vkey(Signer.generate("x").vkey)
    with pytest.raises(NoteError):
        Signer.from_skey(signer.skey)


def _signed_checkpoint() -> tuple[Signer, str, str]:
    log = Signer.generate(ORIGIN)
    body = Checkpoint(ORIGIN, 13, bytes(32)).body()
    return log, body, sign_checkpoint(Checkpoint.parse(body), log)


def test_open_with_log_and_witness_keys() -> None:
    log, body, note = _signed_checkpoint()
    w1, w2 = (
        CosignatureSigner.generate("bawaslu.example/w"),
        CosignatureSigner.generate("polres.example/w"),
    )
    cosigned = add_signatures(
        note, [cosign(body, w1, 1_700_000_000), cosign(body, w2, 1_700_000_001)]
    )
    verifiers = [CosignatureVerifier.from_vkey(w.vkey) for w in (w1, w2)]
    checkpoint, opened = open_checkpoint(cosigned, Verifier.from_vkey(log.vkey), verifiers)
    assert checkpoint.size == 13
    assert opened.verified == [ORIGIN, "bawaslu.example/w", "polres.example/w"]
    # Unknown witnesses are ignored; the log's signature alone still opens it.
    assert open_note(cosigned, [Verifier.from_vkey(log.vkey)]).verified == [ORIGIN]


def test_forged_or_misapplied_cosignatures_fail() -> None:
    log, body, note = _signed_checkpoint()
    witness = CosignatureSigner.generate("bawaslu.example/w")
    verifier = CosignatureVerifier.from_vkey(witness.vkey)
    line = cosign(body, witness, 1_700_000_000)
    other_body = Checkpoint(ORIGIN, 14, bytes(32)).body()
    with pytest.raises(CosignatureError, match="does not verify"):
        verify_cosignature(other_body, line, verifier)
    # Changing the timestamp breaks the signature.
    signature = parse_signature_line(line)
    retimed = NoteSignature(
        signature.name, signature.key_id, (1).to_bytes(8, "big") + signature.signature[8:]
    )
    with pytest.raises(CosignatureError, match="at time 1 does not verify"):
        verify_cosignature(body, retimed.line(), verifier)
    with pytest.raises(NoteError, match="does not verify"):
        open_note(add_signatures(note, [retimed.line()]), [Verifier.from_vkey(log.vkey), verifier])
    short = NoteSignature(signature.name, signature.key_id, signature.signature[:-1])
    with pytest.raises(CosignatureError, match="71 bytes, expected 72"):
        verify_cosignature(body, short.line(), verifier)
    with pytest.raises(NoteError, match="does not verify"):
        open_note(add_signatures(note, [short.line()]), [Verifier.from_vkey(log.vkey), verifier])
    future = NoteSignature(
        signature.name, signature.key_id, (2**63).to_bytes(8, "big") + signature.signature[8:]
    )
    with pytest.raises(CosignatureError, match=r"outside 0\.\.2\^63-1"):
        verify_cosignature(body, future.line(), verifier)
    stranger = CosignatureVerifier.from_vkey(CosignatureSigner.generate("bawaslu.example/w").vkey)
    with pytest.raises(CosignatureError, match=r"not bawaslu\.example/w"):
        verify_cosignature(body, line, stranger)


def test_cosigner_only_signs_checkpoints_at_valid_times() -> None:
    witness = CosignatureSigner.generate("w")
    _, body, _ = _signed_checkpoint()
    with pytest.raises(ValueError):
        cosign("hello\n", witness, 1)
    with pytest.raises(CosignatureError):
        cosign(body, witness, -1)
    with pytest.raises(CosignatureError):
        cosign(body, witness, 2**63)
    assert (
        verify_cosignature(
            body, cosign(body, witness, 2**63 - 1), CosignatureVerifier.from_vkey(witness.vkey)
        )
        == 2**63 - 1
    )
