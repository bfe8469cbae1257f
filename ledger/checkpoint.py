"""C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): a signed tree head.

The body is the origin, the tree size in decimal, the base64 root hash and
optional extension lines; it is signed as a note by the log key, whose name is
the origin.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ledger.encoding import MAX_UINT63, b64decode, b64encode, parse_uint63
from ledger.merkle import HASH_SIZE
from ledger.note import Note, NoteSigner, NoteVerifier, open_note, sign_note


class CheckpointError(ValueError):
    """A checkpoint body is malformed or not the log's."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for what, line in [
            ("origin", self.origin),
            *(("extension line", e) for e in self.extensions),
        ]:
            if not line or "\n" in line:
                raise CheckpointError(f"checkpoint {what} {line!r} must be one non-empty line")
        if not 0 <= self.size <= MAX_UINT63:
            raise CheckpointError(f"checkpoint size {self.size} is outside 0..2^63-1")
        if len(self.root) != HASH_SIZE:
            raise CheckpointError(
                f"checkpoint root is {len(self.root)} bytes, expected {HASH_SIZE}"
            )

    def body(self) -> str:
        lines = [self.origin, str(self.size), b64encode(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        if not body.endswith("\n"):
            raise CheckpointError("checkpoint body must end with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError(
                f"checkpoint body has {len(lines)} lines, needs origin, size and root"
            )
        origin, size, root, *extensions = lines
        return cls(
            origin,
            parse_uint63(size, "checkpoint size", CheckpointError),
            b64decode(root, "checkpoint root", CheckpointError),
            tuple(extensions),
        )


def sign_checkpoint(checkpoint: Checkpoint, *signers: NoteSigner) -> str:
    """The checkpoint as a note signed by the log key, which must be named after the
    origin (two log keys sign the handover checkpoint of a key rotation)."""
    for signer in signers:
        if signer.name != checkpoint.origin:
            raise CheckpointError(
                f"log key {signer.name!r} cannot sign for origin {checkpoint.origin!r}"
            )
    return sign_note(checkpoint.body(), *signers)


def open_checkpoint(
    note_text: str, origin_verifier: NoteVerifier, witnesses: Iterable[NoteVerifier] = ()
) -> tuple[Checkpoint, Note]:
    """Verify a signed checkpoint: the log's own signature is required, and any
    signature by a given witness must verify (see `Note.verified` for which did)."""
    witnesses = list(witnesses)
    for witness in witnesses:
        if witness.name == origin_verifier.name:
            raise CheckpointError(f"witness key name {witness.name!r} is the log's own name")
    note = open_note(note_text, [origin_verifier, *witnesses])
    if origin_verifier.name not in note.verified:
        raise CheckpointError(f"checkpoint is not signed by the log key {origin_verifier.name}")
    checkpoint = Checkpoint.parse(note.text)
    if checkpoint.origin != origin_verifier.name:
        raise CheckpointError(
            f"checkpoint origin {checkpoint.origin!r} is not the log {origin_verifier.name!r}"
        )
    return checkpoint, note
