"""C2SP tlog-proof (https://c2sp.org/tlog-proof): an offline-verifiable receipt.

c2sp.org/tlog-proof@v1
[extra <base64>]
index <N>
<base64 inclusion proof hash, bottom-up, one per line>

<signed checkpoint note, verbatim>
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.encoding import MAX_UINT63, b64decode, b64encode, parse_uint63
from ledger.merkle import check_proof_length, check_proof_shape, leaf_hash, verify_inclusion
from ledger.note import NoteVerifier, parse_note

HEADER = "c2sp.org/tlog-proof@v1"


class ProofBundleError(ValueError):
    """A tlog-proof is malformed or lacks the required witness cosignatures."""


@dataclass(frozen=True)
class ProofBundle:
    index: int
    proof: list[bytes]
    checkpoint_note: str
    extra: bytes | None = None  # opaque and unauthenticated

    def __post_init__(self) -> None:
        if not 0 <= self.index <= MAX_UINT63:
            raise ProofBundleError(f"index {self.index} is outside 0..2^63-1")
        check_proof_shape(self.proof, ProofBundleError)
        try:
            Checkpoint.parse(parse_note(self.checkpoint_note).text)
        except ValueError as error:
            raise ProofBundleError(
                f"checkpoint is not a signed checkpoint note: {error}"
            ) from error

    def encode(self) -> str:
        lines = [HEADER]
        if self.extra is not None:
            lines.append(f"extra {b64encode(self.extra)}")
        lines.append(f"index {self.index}")
        lines.extend(b64encode(value) for value in self.proof)
        return "".join(line + "\n" for line in lines) + "\n" + self.checkpoint_note

    @classmethod
    def parse(cls, s: str) -> ProofBundle:
        header, blank, checkpoint_note = s.partition("\n\n")
        if not blank:
            raise ProofBundleError("proof has no blank line before its checkpoint")
        lines = header.split("\n")
        if lines[0] != HEADER:
            raise ProofBundleError(f"proof does not start with {HEADER!r}")
        extra = None
        position = 1
        if position < len(lines) and lines[position].startswith("extra "):
            extra = b64decode(lines[position][len("extra ") :], "extra data", ProofBundleError)
            position += 1
        if position == len(lines) or not lines[position].startswith("index "):
            raise ProofBundleError("proof has no 'index <N>' line")
        index = parse_uint63(lines[position][len("index ") :], "index", ProofBundleError)
        hashes = lines[position + 1 :]
        check_proof_length(len(hashes), ProofBundleError)
        proof = [
            b64decode(line, f"proof hash {i}", ProofBundleError) for i, line in enumerate(hashes)
        ]
        return cls(index, proof, checkpoint_note, extra)


def verify_bundle(
    bundle: ProofBundle,
    entry: bytes,
    log_verifier: NoteVerifier,
    witnesses: Iterable[NoteVerifier] = (),
    quorum: int = 0,
) -> Checkpoint:
    """Check that `entry` is at `bundle.index` in a checkpoint signed by the log and
    cosigned by at least `quorum` of `witnesses`; returns that checkpoint."""
    witnesses = list(witnesses)
    if not 0 <= quorum <= len({w.name for w in witnesses}):
        raise ValueError(f"quorum {quorum} is not between 0 and the number of witnesses given")
    checkpoint, note = open_checkpoint(bundle.checkpoint_note, log_verifier, witnesses)
    cosigned = [name for name in note.verified if name != log_verifier.name]
    if len(cosigned) < quorum:
        raise ProofBundleError(
            f"checkpoint has {len(cosigned)} verified witness cosignatures, {quorum} required"
        )
    verify_inclusion(leaf_hash(entry), bundle.index, checkpoint.size, bundle.proof, checkpoint.root)
    return checkpoint
