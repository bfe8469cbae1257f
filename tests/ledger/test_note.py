"""C2SP signed notes: Go's reference example, key formats, strict parsing, verification."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.note import (
    MAX_SIGNATURES,
    Note,
    NoteError,
    NoteSignature,
    Signer,
    Verifier,
    add_signatures,
    key_id,
    open_note,
    parse_note,
    parse_signature_line,
    sign_note,
)

# The example of golang.org/x/mod/sumdb/note's package documentation.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT
    + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXg"
    "KvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)

# The example note of c2sp.org/signed-note (its key is not published: parse only).
C2SP_NOTE = (
    "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n"
    "\ned \u00e8 subito sera.\n"
    "\n\u2014 quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9o"
    "JKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)


def test_go_reference_example() -> None:
    signer = Signer.from_skey(GO_SKEY)
    assert (signer.name, signer.key_id.hex()) == ("PeterNeumann", "c74f20a3")
    assert signer.skey == GO_SKEY
    assert signer.vkey == GO_VKEY
    assert sign_note(GO_TEXT, signer) == GO_NOTE
    verifier = Verifier.from_vkey(GO_VKEY)
    assert verifier.vkey == GO_VKEY
    note = open_note(GO_NOTE, [verifier])
    assert note.text == GO_TEXT
    assert note.verified == ["PeterNeumann"]
    assert note.encode() == GO_NOTE


def test_signed_note_spec_example_parses() -> None:
    note = parse_note(C2SP_NOTE)
    assert note.text.endswith("\ned \u00e8 subito sera.\n")  # the text keeps its inner blank line
    assert note.text.count("\n\n") == 1
    assert [(s.name, len(s.signature)) for s in note.signatures] == [
        ("quasimodo.example/salvatore", 64)
    ]
    assert note.encode() == C2SP_NOTE


def test_key_id_matches_spec_formula() -> None:
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes_raw()
    expected = hashlib.sha256(b"example.com/log\n\x01" + public).digest()[:4]
    assert key_id("example.com/log", b"\x01" + public) == expected
    assert Signer("example.com/log", private).key_id == expected
    assert Verifier("example.com/log", private.public_key()).key_id == expected


def _mangled(key: str) -> list[str]:
    """Every proper substring and every one-character change, as Go's note tests do."""
    variants = {key[i:j] for i in range(len(key) + 1) for j in range(i, len(key) + 1)} - {key}
    variants |= {key[:i] + chr(ord(key[i]) + 1) + key[i + 1 :] for i in range(len(key))}
    return sorted(variants)


def test_mangled_verifier_keys_are_rejected() -> None:
    for bad in _mangled(GO_VKEY):
        with pytest.raises(NoteError):
            Verifier.from_vkey(bad)
    # Wrong key length and unknown key type, each with a matching key id (from Go's tests).
    with pytest.raises(NoteError):
        Verifier.from_vkey(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
        )
    with pytest.raises(NoteError, match="type 0x65, expected 0x01"):
        Verifier.from_vkey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")


def test_mangled_signer_keys_are_rejected() -> None:
    for bad in _mangled(GO_SKEY):
        with pytest.raises(NoteError) as raised:
            Signer.from_skey(bad)
        assert "AYEKFALVFGyNhPJEMzD1QIDr" not in str(raised.value)  # never echo the secret


def test_key_names() -> None:
    for bad in ["", "a b", "a+b", "a\tb", "a\nb", "a\u00a0b", "a\u2003b", "a\x00b", "a\ud800"]:
        with pytest.raises(NoteError):
            Signer.generate(bad)
    assert Signer.generate("jejak.example/log/53.03").name == "jejak.example/log/53.03"


def test_generated_keys_round_trip() -> None:
    signer = Signer.generate("jejak.example/log/53.03")
    again = Signer.from_skey(signer.skey)
    assert (again.vkey, again.key_id) == (signer.vkey, signer.key_id)
    verifier = Verifier.from_vkey(signer.vkey)
    assert verifier.key_id == signer.key_id
    assert verifier.verify(b"m", signer.sign(b"m"))
    assert not verifier.verify(b"n", signer.sign(b"m"))
    assert not verifier.verify(b"m", b"short")


def test_sign_note_checks_its_text() -> None:
    signer = Signer.generate("log")
    for bad in ["", "no newline", "tab\there\n", "cr\r\n", "\ud800\n"]:
        with pytest.raises(NoteError):
            sign_note(bad, signer)
    with pytest.raises(NoteError, match="at least one signer"):
        sign_note("text\n")


def test_altered_text_or_signature_fails() -> None:
    verifier = Verifier.from_vkey(GO_VKEY)
    with pytest.raises(NoteError, match=r"signature by PeterNeumann\+c74f20a3 does not verify"):
        open_note(GO_NOTE.replace("answer", "answers"), [verifier])
    note = parse_note(GO_NOTE)
    forged = NoteSignature("PeterNeumann", note.signatures[0].key_id, bytes(64))
    with pytest.raises(NoteError, match="does not verify"):
        open_note(Note(note.text, [forged]).encode(), [verifier])


def test_unknown_keys_are_ignored_but_one_known_signature_is_needed() -> None:
    log, other = Signer.generate("log"), Signer.generate("other")
    same_name = Signer.generate("log")  # same name, different key id: unknown
    text = sign_note("body\n", other, same_name, log)
    note = open_note(text, [Verifier.from_vkey(log.vkey)])
    assert note.verified == ["log"]
    assert [s.name for s in note.signatures] == ["other", "log", "log"]
    with pytest.raises(NoteError, match=r"no signature by a known key \(signed by other\+"):
        open_note(sign_note("body\n", other), [Verifier.from_vkey(log.vkey)])
    with pytest.raises(NoteError, match="two verifiers share the key"):
        open_note(text, [Verifier.from_vkey(log.vkey)] * 2)


@pytest.mark.parametrize(
    "bad",
    [
        GO_TEXT,  # no signatures
        GO_TEXT + "\n",  # blank line, no signatures
        GO_NOTE[:-1],  # missing final newline
        GO_NOTE + "\n",  # trailing blank line
        GO_NOTE.replace("\u2014 ", "- "),  # not an em dash
        GO_NOTE.replace("\u2014 ", "\u2014"),  # no space after the dash
        GO_NOTE.replace("PeterNeumann x08", "PeterNeumann  x08"),  # two spaces
        GO_NOTE.replace("PeterNeumann x08", "PeterNeumannx08"),  # no space
        GO_NOTE.replace("AM=\n", "AM\n"),  # bad padding
        GO_NOTE.replace("AM=\n", "AN=\n"),  # non-canonical base64
        GO_NOTE.replace("AM=\n", "AM= \n"),  # trailing space
        GO_NOTE.replace("\u2014 PeterNeumann x08go/ZJkuBS9UG/Sff", "\u2014 PeterNeumann x08g"),
        GO_TEXT + "\n\u2014 PeterNeumann AAAA\n",  # signature too short
        GO_TEXT + "\n\u2014  x08go/ZJk=\n",  # empty name
        GO_NOTE.replace("If you", "If\x00you"),  # control character in the text
        GO_NOTE.replace("problem,\n", "problem,\r\n"),
        GO_NOTE.replace("If you", "If\ud800you"),  # not UTF-8
        GO_NOTE + "\u2014 PeterNeumann\n",  # a second line without signature
    ],
)
def test_malformed_notes_are_rejected(bad: str) -> None:
    with pytest.raises(NoteError):
        parse_note(bad)


def test_signature_count_limit() -> None:
    line = parse_note(GO_NOTE).signatures[0].line()
    assert len(parse_note(GO_TEXT + "\n" + line * MAX_SIGNATURES).signatures) == MAX_SIGNATURES
    with pytest.raises(NoteError, match="101 signatures"):
        parse_note(GO_TEXT + "\n" + line * (MAX_SIGNATURES + 1))


def test_text_may_contain_blank_lines_and_dash_lines() -> None:
    signer = Signer.generate("log")
    text = "first\n\n\u2014 not a signature\n\n"
    note = open_note(sign_note(text, signer), [Verifier.from_vkey(signer.vkey)])
    assert note.text == text


def test_add_signatures() -> None:
    log, witness = Signer.generate("log"), Signer.generate("witness")
    base = sign_note("body\n", log)
    extra = parse_note(sign_note("body\n", witness)).signatures[0].line()
    merged = add_signatures(base, [extra, extra])
    assert merged == sign_note("body\n", log, witness)
    assert add_signatures(merged, [extra]) == merged
    # A new signature by a key that already signed replaces the old one.
    other = NoteSignature("witness", witness.key_id, bytes(64)).line()
    assert parse_note(add_signatures(merged, [other])).signatures[-1].signature == bytes(64)
    with pytest.raises(NoteError, match="one newline-terminated line"):
        add_signatures(base, [extra.rstrip("\n")])
    with pytest.raises(NoteError, match="one newline-terminated line"):
        add_signatures(base, [extra + extra])
    many = [NoteSignature(f"w{i}", b"\x00\x00\x00\x00", b"s").line() for i in range(MAX_SIGNATURES)]
    with pytest.raises(NoteError, match="would have 101 signatures"):
        add_signatures(base, many)


def test_parse_signature_line() -> None:
    line = parse_note(GO_NOTE).signatures[0].line()
    signature = parse_signature_line(line)
    assert (signature.name, signature.key_id.hex(), len(signature.signature)) == (
        "PeterNeumann",
        "c74f20a3",
        64,
    )
    assert signature.line() == line


def test_verifier_from_private_key_matches() -> None:
    private = Ed25519PrivateKey.generate()
    signer = Signer("n", private)
    assert Verifier("n", private.public_key()).vkey == signer.vkey
