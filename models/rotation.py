"""Rotating keys (`jejak keys rotate`): a log's checkpoint key, a KPU's label key, the
access-token key. Nothing signed before stops verifying: the old public keys stay
published as retired (docs/ENTRIES.md, README *Keys*), and every rotation is recorded
in the audit trail.

Each rotation writes the new private key to disk before anything publishes it, and
moves it into place only once the log has committed it (models/log/keys.py), so running it
again after a crash finishes the same rotation instead of starting another."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ledger import merkle
from ledger.jws import thumbprint
from ledger.note import Signer
from ledger.rotation import LOG_KEY, handover_size
from ledger.tiles import TileHashReader
from sqlalchemy import select

from models.accounts import trail
from models.core.db import Database
from models.core.errors import Conflict
from models.custody.labels import LabelKey, LabelKeysInBatch
from models.log.keys import KeyStore
from models.log.reads import add_checkpoint, check_log_id
from models.log.sequencer import Appended, Batch, NewEntry, Refused, Sequencer, b64
from models.log.tables import RetiredLogKey
from models.log.tiles import TileStore


@dataclass(frozen=True)
class Rotation:
    key: str  # "log", "label" or "token"
    retired: str | None  # the public key replaced (verifier key or kid); None: none, or recorded before
    current: str  # the new one
    # Its entry in the log. None: a token key (not in a log), or the rotation was committed
    # before an interruption and only its files were left to put in place.
    index: int | None


def _audit(batch: Batch, rotation: Rotation) -> None:
    trail.record(
        batch.session,
        None,
        "key.rotate",
        f"{rotation.key} {batch.log.id}",
        {"retired": rotation.retired, "current": rotation.current, "index": rotation.index},
        jurisdiction=batch.log.id,
    )


class _LogKeyInBatch:
    """Whether a request of this batch names a new log key already (a Batch.state)."""

    def __init__(self, batch: Batch) -> None:
        self.named = False


@dataclass
class LogKeyRotation:
    """Work: the `log_key` entry naming the new key, then the handover checkpoint just
    past it, signed by the old key and co-signed by the new; later checkpoints are the
    new key's (ledger/rotation.py). Nothing to append if the log has the new key already
    (a rotation interrupted after it committed)."""

    keys: KeyStore
    tiles: TileStore
    old: Signer | None = field(default=None, init=False)
    new: Signer | None = field(default=None, init=False)

    def prepare(self, batch: Batch) -> list[NewEntry]:
        log = batch.log
        self.new = self.keys.next_log_signer(log.id, log.origin)  # on disk before the log names it
        if log.verifier_key == self.new.vkey:
            return []
        rotating = batch.state(_LogKeyInBatch)
        if rotating.named:
            raise Conflict(f"log {log.id}'s key is being rotated by another request")
        self.old = self.keys.log_signer(log.id, log.origin, log.verifier_key)
        rotating.named = True
        return [NewEntry({"type": LOG_KEY, "key": self.new.vkey, "retires": self.old.vkey})]

    def abandon(self, batch: Batch) -> None:
        if self.old is not None:  # not when another request was naming one
            batch.state(_LogKeyInBatch).named = False

    def finish(self, batch: Batch, results: list[Appended | Refused]) -> Rotation:
        assert self.new is not None
        if self.old is None:
            return Rotation("log", None, self.new.vkey, None)
        [entry] = results
        assert isinstance(entry, Appended)
        size = handover_size(entry.index)
        # Past the shared tile cache: these entries are not committed yet.
        reader = TileHashReader(size, lambda keys: self.tiles.read(batch.session, batch.log.id, keys))
        add_checkpoint(batch.session, batch.log, merkle.tree_root(size, reader), self.old, self.new, size=size)
        batch.log.verifier_key = self.new.vkey
        batch.session.add(RetiredLogKey(log_id=batch.log.id, retired_index=entry.index, verifier_key=self.old.vkey))
        rotation = Rotation("log", self.old.vkey, self.new.vkey, entry.index)
        _audit(batch, rotation)
        return rotation


@dataclass
class LabelKeyRotation:
    """Work: publish the new label key in a `label_key` entry that retires the key in use;
    labels signed by the old one still verify with it, and none is signed by it again.
    Nothing to append if the new key is published already (an interrupted rotation)."""

    keys: KeyStore
    key: Ed25519PrivateKey | None = field(default=None, init=False)
    retiring: LabelKey | None = field(default=None, init=False)
    published: bool = field(default=False, init=False)

    def prepare(self, batch: Batch) -> list[NewEntry]:
        session, log_id = batch.session, batch.log.id
        self.key = self.keys.next_ed25519(self.keys.label_key_path(log_id))  # on disk before the log names it
        kid = thumbprint(self.key.public_key())
        if session.get(LabelKey, (log_id, kid)) is not None:
            self.published = True
            return []
        in_batch = batch.state(LabelKeysInBatch)
        if in_batch.retiring:
            raise Conflict(f"log {log_id}'s label key is being rotated by another request")
        record = {"type": "label_key", "kid": kid, "key": b64(self.key.public_key().public_bytes_raw()), "alg": "EdDSA"}
        self.retiring = session.scalars(
            select(LabelKey)
            .where(LabelKey.log_id == log_id, LabelKey.retired_index.is_(None))
            .order_by(LabelKey.published_index.desc())
            .limit(1)
        ).first()
        if self.retiring is not None:
            record["retires"] = self.retiring.kid
            in_batch.retiring.add(self.retiring.kid)
        return [NewEntry(record)]

    def abandon(self, batch: Batch) -> None:
        if self.retiring is not None:  # not when another request was retiring it
            batch.state(LabelKeysInBatch).retiring.discard(self.retiring.kid)

    def finish(self, batch: Batch, results: list[Appended | Refused]) -> Rotation:
        assert self.key is not None
        kid = thumbprint(self.key.public_key())
        if self.published:
            return Rotation("label", None, kid, None)
        [entry] = results
        assert isinstance(entry, Appended)
        raw = self.key.public_key().public_bytes_raw()
        batch.session.add(LabelKey(log_id=batch.log.id, kid=kid, public_key=raw, published_index=entry.index))
        if self.retiring is not None:
            self.retiring.retired_index = entry.index
        rotation = Rotation("label", self.retiring.kid if self.retiring else None, kid, entry.index)
        _audit(batch, rotation)
        return rotation


def rotate_log_key(sequencer: Sequencer, keys: KeyStore, tiles: TileStore, log_id: str) -> Rotation:
    """A new checkpoint key for the log; the old one goes to the keys' retired/ folder."""
    rotation: Rotation = sequencer.submit(check_log_id(log_id), LogKeyRotation(keys, tiles), 1)
    keys.put_in_place(keys.log_key_path(log_id), keep=True)
    return rotation


def rotate_label_key(sequencer: Sequencer, keys: KeyStore, log_id: str) -> Rotation:
    """A new label key for the KPU's log, published in it; the old one goes to retired/
    (kept: a restore signs the labels it signed again, byte for byte)."""
    rotation: Rotation = sequencer.submit(check_log_id(log_id), LabelKeyRotation(keys), 1)
    keys.put_in_place(keys.label_key_path(log_id), keep=True)
    return rotation


def rotate_token_key(keys: KeyStore, db: Database) -> Rotation:
    """A new access-token key, recorded in the audit trail on the home database `db`.
    Tokens signed by the old one keep working until they expire: its public half stays
    in the JWKS until then (models/log/keys.py)."""
    path = keys.token_key_path()
    new = keys.next_ed25519(path)
    old = keys.token_key() if path.exists() else None
    if old is not None:
        keys.retire_token_key(old)
    keys.put_in_place(path, keep=False)
    rotation = Rotation("token", old and thumbprint(old.public_key()), thumbprint(new.public_key()), None)
    with db.session(write=True) as session:
        trail.record(session, None, "key.rotate", "token", {"retired": rotation.retired, "current": rotation.current})
    return rotation
