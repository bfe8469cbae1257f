"""C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys.

Formats follow Go's golang.org/x/mod/sumdb/note: verifier keys
`<name>+<8 hex key id>+<base64(type ‖ public key)>`, signer keys
`PRIVATE+KEY+<name>+<8 hex key id>+<base64(type ‖ seed)>`, and signature lines
`— <name> <base64(key id ‖ signature)>`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.encoding import b64decode, b64encode

KEY_TYPE_ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100  # as Go: bounds the work a hostile note can cause

_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")  # int(s, 16) alone would accept "0x", "_", spaces


class NoteError(ValueError):
    """A note, key or signature is malformed or does not verify."""


class NoteSigner(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def key_id(self) -> bytes: ...
    def sign(self, message: bytes) -> bytes: ...


class NoteVerifier(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def key_id(self) -> bytes: ...
    def verify(self, message: bytes, signature: bytes) -> bool: ...


def key_id(name: str, key_type_and_public_key: bytes) -> bytes:
    """SHA-256(name ‖ "\\n" ‖ type ‖ public key)[:4], as the spec recommends."""
    return hashlib.sha256(name.encode() + b"\n" + key_type_and_public_key).digest()[:4]


def check_key_name(name: str) -> None:
    """Key names are non-empty, without spaces, `+` or control characters."""
    if not name:
        raise NoteError("key name is empty")
    for char in name:
        if char.isspace() or char == "+":
            raise NoteError(f"key name {name!r} contains {char!r}")
    _check_text(name, "key name")


def _check_text(text: str, what: str) -> None:
    """Notes are UTF-8 without control characters other than newline."""
    try:
        text.encode()
    except UnicodeEncodeError as cause:
        raise NoteError(f"{what} is not valid UTF-8") from cause
    for offset, char in enumerate(text):
        if char < " " and char != "\n":
            raise NoteError(
                f"{what} contains control character U+{ord(char):04X} at offset {offset}"
            )


def encode_vkey(name: str, key_type: int, public_key: Ed25519PublicKey) -> str:
    check_key_name(name)
    material = bytes([key_type]) + public_key.public_bytes_raw()
    return f"{name}+{key_id(name, material).hex()}+{b64encode(material)}"


def decode_vkey(vkey: str, key_type: int) -> tuple[str, Ed25519PublicKey]:
    """Parse a verifier key of `key_type`; the base64 may contain `+`, so split only twice."""
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise NoteError(f"verifier key {vkey!r} is not <name>+<key id>+<key>")
    name, hex_id, key64 = parts
    check_key_name(name)
    what = f"verifier key of {name}"
    public = _key_bytes(b64decode(key64, what, NoteError), key_type, what)
    _check_key_id(name, hex_id, bytes([key_type]) + public, what)
    return name, Ed25519PublicKey.from_public_bytes(public)


def encode_skey(name: str, key_type: int, private_key: Ed25519PrivateKey) -> str:
    check_key_name(name)
    material = bytes([key_type]) + private_key.public_key().public_bytes_raw()
    seed = private_key.private_bytes_raw()
    return (
        f"PRIVATE+KEY+{name}+{key_id(name, material).hex()}+{b64encode(bytes([key_type]) + seed)}"
    )


def decode_skey(skey: str, key_type: int) -> tuple[str, Ed25519PrivateKey]:
    """Parse a signer key of `key_type`. Error messages never quote the secret."""
    parts = skey.split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise NoteError("signer key is not PRIVATE+KEY+<name>+<key id>+<key>")
    name, hex_id, key64 = parts[2:]
    check_key_name(name)
    what = f"signer key of {name}"
    try:
        material = b64decode(key64, what, NoteError)
    except NoteError:
        raise NoteError(f"{what} is not canonical base64") from None
    private_key = Ed25519PrivateKey.from_private_bytes(_key_bytes(material, key_type, what))
    # The key id covers the public key, so derive it before checking.
    _check_key_id(
        name, hex_id, bytes([key_type]) + private_key.public_key().public_bytes_raw(), what
    )
    return name, private_key


def _key_bytes(material: bytes, key_type: int, what: str) -> bytes:
    """The 32 key bytes of `type ‖ key`, after checking its type and length."""
    if len(material) != 33:
        raise NoteError(f"{what} is {len(material)} bytes, expected 33 (type and Ed25519 key)")
    if material[0] != key_type:
        raise NoteError(f"{what} has type 0x{material[0]:02x}, expected 0x{key_type:02x}")
    return material[1:]


def _check_key_id(name: str, hex_id: str, public_material: bytes, what: str) -> None:
    if not _KEY_ID.fullmatch(hex_id):
        raise NoteError(f"key id {hex_id!r} of {what} is not 8 hex digits")
    if key_id(name, public_material) != bytes.fromhex(hex_id):
        raise NoteError(f"key id {hex_id} of {what} does not match its name and key")


class Signer:
    """An Ed25519 note signer (signature type 0x01)."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        check_key_name(name)
        self.name = name
        self._private_key = private_key
        self.key_id = key_id(
            name, bytes([KEY_TYPE_ED25519]) + private_key.public_key().public_bytes_raw()
        )

    @classmethod
    def generate(cls, name: str) -> Signer:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_skey(cls, skey: str) -> Signer:
        return cls(*decode_skey(skey, KEY_TYPE_ED25519))

    @property
    def skey(self) -> str:
        return encode_skey(self.name, KEY_TYPE_ED25519, self._private_key)

    @property
    def vkey(self) -> str:
        return encode_vkey(self.name, KEY_TYPE_ED25519, self._private_key.public_key())

    def sign(self, message: bytes) -> bytes:
        return self._private_key.sign(message)


class Verifier:
    """An Ed25519 note verifier (signature type 0x01)."""

    def __init__(self, name: str, public_key: Ed25519PublicKey) -> None:
        check_key_name(name)
        self.name = name
        self._public_key = public_key
        self.key_id = key_id(name, bytes([KEY_TYPE_ED25519]) + public_key.public_bytes_raw())

    @classmethod
    def from_vkey(cls, vkey: str) -> Verifier:
        return cls(*decode_vkey(vkey, KEY_TYPE_ED25519))

    @property
    def vkey(self) -> str:
        return encode_vkey(self.name, KEY_TYPE_ED25519, self._public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self._public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes  # without the key id

    def line(self) -> str:
        """The signature line, newline included."""
        return f"{SIGNATURE_PREFIX}{self.name} {b64encode(self.key_id + self.signature)}\n"


@dataclass
class Note:
    text: str
    signatures: list[NoteSignature]
    verified: list[str] = field(default_factory=list)  # names whose signature verified (open_note)

    def encode(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def parse_signature_line(line: str) -> NoteSignature:
    """Parse one `— <name> <base64(key id ‖ signature)>\\n` line."""
    if not line.endswith("\n") or "\n" in line[:-1]:
        raise NoteError(f"signature line {line!r} is not one newline-terminated line")
    _check_text(line, "signature line")
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError(f"signature line {line[:-1]!r} does not start with an em dash and a space")
    name, space, sig64 = line[len(SIGNATURE_PREFIX) : -1].partition(" ")
    if not space:
        raise NoteError(f"signature line {line[:-1]!r} has no space between name and signature")
    check_key_name(name)
    raw = b64decode(sig64, f"signature by {name}", NoteError)
    if len(raw) < 5:
        raise NoteError(
            f"signature by {name} is {len(raw)} bytes: a key id and a signature need at least 5"
        )
    return NoteSignature(name, raw[:4], raw[4:])


def _check_note_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("note text must be non-empty and end with a newline")
    _check_text(text, "note text")


def sign_note(text: str, *signers: NoteSigner) -> str:
    """Sign `text` with every signer, in order."""
    _check_note_text(text)
    if not signers:
        raise NoteError("a note needs at least one signer")
    message = text.encode()
    signatures = []
    for signer in signers:
        check_key_name(signer.name)
        signatures.append(NoteSignature(signer.name, signer.key_id, signer.sign(message)))
    return Note(text, signatures).encode()


def parse_note(s: str) -> Note:
    """Split a signed note into its text and signatures, without verifying any."""
    _check_text(s, "note")
    # The text ends at the last blank line: signature lines are never empty.
    split = s.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text, block = s[: split + 1], s[split + 2 :]
    if not block:
        raise NoteError("note has no signatures")
    if not block.endswith("\n"):
        raise NoteError("note does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has {len(lines)} signatures, at most {MAX_SIGNATURES} are accepted")
    return Note(text, [parse_signature_line(line + "\n") for line in lines])


def open_note(s: str, verifiers: Iterable[NoteVerifier]) -> Note:
    """Parse a note and verify it: every signature by a known key (same name and key id)
    must verify, at least one must exist, and unknown keys' signatures are ignored."""
    note = parse_note(s)
    known: dict[tuple[str, bytes], NoteVerifier] = {}
    for verifier in verifiers:
        key = (verifier.name, verifier.key_id)
        if key in known:
            raise NoteError(f"two verifiers share the key {verifier.name}+{verifier.key_id.hex()}")
        known[key] = verifier
    message = note.text.encode()
    for signature in note.signatures:
        known_verifier = known.get((signature.name, signature.key_id))
        if known_verifier is None:
            continue
        if not known_verifier.verify(message, signature.signature):
            raise NoteError(
                f"signature by {signature.name}+{signature.key_id.hex()} does not verify"
            )
        if signature.name not in note.verified:
            note.verified.append(signature.name)
    if not note.verified:
        signed_by = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in note.signatures)
        raise NoteError(f"note has no signature by a known key (signed by {signed_by})")
    return note


def add_signatures(note_text: str, signature_lines: Iterable[str]) -> str:
    """Merge signature lines (each newline-terminated) into a signed note.

    A new line from a key that already signed replaces that signature, as in Go's
    note.Sign. Nothing is verified here: check cosignatures before adding them.
    """
    note = parse_note(note_text)
    added: dict[tuple[str, bytes], NoteSignature] = {}
    for line in signature_lines:
        signature = parse_signature_line(line)
        added[(signature.name, signature.key_id)] = signature
    kept = [s for s in note.signatures if (s.name, s.key_id) not in added]
    signatures = kept + list(added.values())
    if len(signatures) > MAX_SIGNATURES:
        raise NoteError(
            f"note would have {len(signatures)} signatures, at most {MAX_SIGNATURES} are accepted"
        )
    return Note(note.text, signatures).encode()
