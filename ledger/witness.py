"""C2SP tlog-witness (https://c2sp.org/tlog-witness): the add-checkpoint exchange.

A log sends a witness `POST <submission prefix>/add-checkpoint` with

    old <size the witness last cosigned>
    <base64 consistency proof hash, one per line, at most 63>

    <the signed checkpoint note>

and gets back its cosignature lines (200), the size the witness last cosigned
(409, `text/x.tlog.size`), or 400, 403, 404 or 422. The witness's checks are here,
in the spec's order, so that a witness and its tests share them: `open_submission`
(origin, signature, sizes) before it reads its state, `check_extends` against it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ledger.checkpoint import Checkpoint, CheckpointError
from ledger.encoding import MAX_UINT63, b64decode, b64encode, parse_uint63
from ledger.merkle import (
    EMPTY_ROOT,
    ProofError,
    check_proof_length,
    check_proof_shape,
    verify_consistency,
)
from ledger.note import (
    NoteError,
    NoteSignature,
    NoteVerifier,
    open_note,
    parse_note,
    parse_signature_line,
)

ADD_CHECKPOINT_PATH = "/add-checkpoint"
SIZE_CONTENT_TYPE = "text/x.tlog.size"


class WitnessRefusal(ValueError):
    """The witness does not cosign; `status` is the HTTP answer the spec prescribes."""

    status = 400


class MalformedRequest(WitnessRefusal):
    status = 400


class UnknownLog(WitnessRefusal):
    status = 404


class UntrustedSignature(WitnessRefusal):
    status = 403


class StaleSize(WitnessRefusal):
    """`old` is not the size the witness last cosigned; it answers with that size."""

    status = 409

    def __init__(self, size: int) -> None:
        super().__init__(f"the last checkpoint cosigned for this log has size {size}")
        self.size = size


class RootMismatch(WitnessRefusal):
    """A second root for the size the witness cosigned: a fork."""

    status = 409


class InconsistentProof(WitnessRefusal):
    status = 422


@dataclass(frozen=True)
class AddCheckpoint:
    """An add-checkpoint request body."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint_note: str

    def __post_init__(self) -> None:
        if not 0 <= self.old_size <= MAX_UINT63:
            raise MalformedRequest(f"old size {self.old_size} is outside 0..2^63-1")
        check_proof_shape(self.proof, MalformedRequest)

    def encode(self) -> bytes:
        lines = [f"old {self.old_size}", *(b64encode(value) for value in self.proof)]
        return ("".join(line + "\n" for line in lines) + "\n" + self.checkpoint_note).encode()

    @classmethod
    def parse(cls, body: bytes) -> AddCheckpoint:
        text = _utf8(body, "request body")
        # Proof lines are never empty, so the first empty line ends them.
        header, blank, note = text.partition("\n\n")
        if not blank:
            raise MalformedRequest("request body has no empty line before the checkpoint")
        old, *proof = header.split("\n")
        if not old.startswith("old "):
            raise MalformedRequest(f"request body starts with {old!r}, not 'old <size>'")
        check_proof_length(len(proof), MalformedRequest)
        return cls(
            parse_uint63(old[len("old ") :], "old size", MalformedRequest),
            tuple(
                b64decode(line, f"consistency proof line {i}", MalformedRequest)
                for i, line in enumerate(proof)
            ),
            note,
        )


def encode_size(size: int) -> bytes:
    """The body of a 409 answer."""
    return b"%d\n" % size


def parse_size(body: bytes) -> int:
    text = _utf8(body, "size answer")
    if not text.endswith("\n"):
        raise MalformedRequest(f"size answer {text!r} does not end with a newline")
    return parse_uint63(text[:-1], "size answer", MalformedRequest)


def encode_cosignatures(lines: Sequence[str]) -> bytes:
    """The body of a 200 answer: one or more note signature lines."""
    if not lines:
        raise ValueError("a witness answers with at least one cosignature")
    return "".join(lines).encode()


def parse_cosignatures(body: bytes) -> list[NoteSignature]:
    """The signature lines of a 200 answer (nothing verified yet)."""
    text = _utf8(body, "cosignature answer")
    if not text.endswith("\n"):
        raise MalformedRequest("cosignature answer is empty or does not end with a newline")
    try:
        return [parse_signature_line(line + "\n") for line in text[:-1].split("\n")]
    except NoteError as error:
        raise MalformedRequest(f"cosignature answer: {error}") from error


def open_submission(
    request: AddCheckpoint, trusted: Mapping[str, Sequence[NoteVerifier]]
) -> Checkpoint:
    """The submitted checkpoint, once its origin is known (404), a trusted key for that
    origin signed it (403; signatures by other keys are ignored) and `old` is not past
    its size (400). `trusted` maps each origin to its log keys."""
    try:
        checkpoint = Checkpoint.parse(parse_note(request.checkpoint_note).text)
    except (NoteError, CheckpointError) as error:
        raise MalformedRequest(f"not a signed checkpoint: {error}") from error
    keys = trusted.get(checkpoint.origin)
    if not keys:
        raise UnknownLog(f"this witness has no key for the log {checkpoint.origin!r}")
    try:
        open_note(request.checkpoint_note, keys)
    except NoteError as error:
        raise UntrustedSignature(f"checkpoint of {checkpoint.origin}: {error}") from error
    if request.old_size > checkpoint.size:
        raise MalformedRequest(
            f"old size {request.old_size} is larger than the checkpoint's size {checkpoint.size}"
        )
    return checkpoint


def check_extends(
    request: AddCheckpoint, checkpoint: Checkpoint, cosigned: tuple[int, bytes] | None
) -> None:
    """Refuse unless `checkpoint` extends the (size, root) the witness last cosigned for
    its origin (None: never), as `request.old_size` and its proof claim."""
    last_size, last_root = cosigned or (0, EMPTY_ROOT)
    if request.old_size != last_size:
        raise StaleSize(last_size)
    if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
        raise InconsistentProof("a checkpoint of size 0 must carry the empty tree's root")
    if last_size == checkpoint.size and last_root != checkpoint.root:
        raise RootMismatch(
            f"size {checkpoint.size} was cosigned with another root: the log has forked"
        )
    if request.old_size == 0:
        if request.proof:
            raise InconsistentProof("the consistency proof from size 0 must be empty")
        return
    try:
        verify_consistency(
            request.old_size, checkpoint.size, last_root, checkpoint.root, request.proof
        )
    except ProofError as error:
        raise InconsistentProof(str(error)) from error


def _utf8(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedRequest(f"{what} is not UTF-8") from error
