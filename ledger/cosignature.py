"""C2SP tlog-cosignature (https://c2sp.org/tlog-cosignature): Ed25519 cosignature/v1.

A witness signs `cosignature/v1\\ntime <unix seconds>\\n` followed by the checkpoint
body, and publishes the 8-byte big-endian timestamp followed by the Ed25519
signature as a note signature of type 0x04. `CosignatureVerifier` fits
`note.open_note`, so a checkpoint opens with log and witness keys together.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.checkpoint import Checkpoint
from ledger.encoding import MAX_UINT63
from ledger.note import (
    NoteError,
    NoteSignature,
    check_key_name,
    decode_skey,
    decode_vkey,
    encode_skey,
    encode_vkey,
    key_id,
    parse_signature_line,
)

KEY_TYPE_COSIGNATURE_V1 = 0x04
COSIGNATURE_SIZE = 8 + 64  # timestamp ‖ Ed25519 signature


class CosignatureError(NoteError):
    """A cosignature is malformed, from another key, or does not verify."""


def cosigned_message(checkpoint_body: bytes, timestamp: int) -> bytes:
    """What a cosignature/v1 signs: the header, the time line and the checkpoint body."""
    return b"cosignature/v1\ntime %d\n" % timestamp + checkpoint_body


def _check_timestamp(timestamp: int) -> None:
    if not 0 <= timestamp <= MAX_UINT63:
        raise CosignatureError(f"cosignature timestamp {timestamp} is outside 0..2^63-1")


class CosignatureSigner:
    """A witness's cosigning key. It signs only cosignature messages, never raw text."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        check_key_name(name)
        self.name = name
        self._private_key = private_key
        public = private_key.public_key().public_bytes_raw()
        self.key_id = key_id(name, bytes([KEY_TYPE_COSIGNATURE_V1]) + public)

    @classmethod
    def generate(cls, name: str) -> CosignatureSigner:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_skey(cls, skey: str) -> CosignatureSigner:
        return cls(*decode_skey(skey, KEY_TYPE_COSIGNATURE_V1))

    @property
    def skey(self) -> str:
        return encode_skey(self.name, KEY_TYPE_COSIGNATURE_V1, self._private_key)

    @property
    def vkey(self) -> str:
        return encode_vkey(self.name, KEY_TYPE_COSIGNATURE_V1, self._private_key.public_key())

    def sign(self, checkpoint_body: str, timestamp: int) -> bytes:
        """The cosignature: 8-byte big-endian timestamp ‖ Ed25519 signature."""
        _check_timestamp(timestamp)
        message = cosigned_message(checkpoint_body.encode(), timestamp)
        return timestamp.to_bytes(8, "big") + self._private_key.sign(message)


class CosignatureVerifier:
    """A witness's public key; `verify` takes the note text, as `note.open_note` passes it."""

    def __init__(self, name: str, public_key: Ed25519PublicKey) -> None:
        check_key_name(name)
        self.name = name
        self._public_key = public_key
        public = public_key.public_bytes_raw()
        self.key_id = key_id(name, bytes([KEY_TYPE_COSIGNATURE_V1]) + public)

    @classmethod
    def from_vkey(cls, vkey: str) -> CosignatureVerifier:
        return cls(*decode_vkey(vkey, KEY_TYPE_COSIGNATURE_V1))

    @property
    def vkey(self) -> str:
        return encode_vkey(self.name, KEY_TYPE_COSIGNATURE_V1, self._public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        if len(signature) != COSIGNATURE_SIZE:
            return False
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > MAX_UINT63:
            return False
        try:
            self._public_key.verify(signature[8:], cosigned_message(message, timestamp))
        except InvalidSignature:
            return False
        return True


def cosign(checkpoint_body: str, signer: CosignatureSigner, timestamp: int) -> str:
    """The witness's signature line (newline included) for a checkpoint body."""
    Checkpoint.parse(checkpoint_body)  # a witness cosigns checkpoints, nothing else
    return NoteSignature(signer.name, signer.key_id, signer.sign(checkpoint_body, timestamp)).line()


def verify_cosignature(checkpoint_body: str, line: str, verifier: CosignatureVerifier) -> int:
    """Check a cosignature line against a checkpoint body; returns its timestamp."""
    signature = parse_signature_line(line)
    if (signature.name, signature.key_id) != (verifier.name, verifier.key_id):
        raise CosignatureError(
            f"cosignature is by {signature.name}+{signature.key_id.hex()}, "
            f"not {verifier.name}+{verifier.key_id.hex()}"
        )
    if len(signature.signature) != COSIGNATURE_SIZE:
        raise CosignatureError(
            f"cosignature by {verifier.name} is {len(signature.signature)} bytes, "
            f"expected {COSIGNATURE_SIZE}"
        )
    timestamp = int.from_bytes(signature.signature[:8], "big")
    _check_timestamp(timestamp)
    if not verifier.verify(checkpoint_body.encode(), signature.signature):
        raise CosignatureError(
            f"cosignature by {verifier.name} at time {timestamp} does not verify"
        )
    return timestamp
