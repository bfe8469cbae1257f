"""Private keys on disk, one file each, readable by the service's user only.

Keys never enter the database or git. Development generates a missing key on first
use; production refuses to run without the keys an operator installed.

- `log-<regency>.skey`: the log's checkpoint signer (C2SP signed-note key format);
- `label-<regency>.pem`: the KPU's label key (Ed25519, PKCS#8 PEM);
- `token.pem`: the key that signs access tokens (Ed25519, PKCS#8 PEM).

A rotation (models/rotation.py) writes the new key beside the current one as
`<name>.next.<ext>` first, so that no key the log has published is ever lost, then
moves the current one to `retired/` and the new one in its place. Other processes
notice: a key file is read again whenever it changed."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from ledger.jws import thumbprint
from ledger.note import Signer

from models.core.errors import Unavailable
from models.core.private import private_directory
from models.core.routing import LogDatabases
from models.log.reads import check_log_id, every_log


class MissingKey(Unavailable):
    title = "Signing key missing"


class KeyStore:
    def __init__(self, directory: Path, *, create_missing: bool) -> None:
        self.directory = directory
        self.create_missing = create_missing
        self.retired_directory = directory / "retired"
        # Each key with the (inode, mtime) of the file it was read from.
        self._signers: dict[str, tuple[tuple[int, int] | None, Signer]] = {}
        self._keys: dict[str, tuple[tuple[int, int] | None, Ed25519PrivateKey]] = {}

    def log_key_path(self, log_id: str) -> Path:
        # Validated: the name becomes part of a file path.
        return self.directory / f"log-{check_log_id(log_id)}.skey"

    def log_signer(self, log_id: str, origin: str, vkey: str | None = None) -> Signer:
        """The log's checkpoint signer; its key name is the log's origin. Given `vkey`, the
        log's verifier key as the database has it, the file must hold that key."""
        path = self.log_key_path(log_id)
        stamp = _stamp(path)
        cached = self._signers.get(log_id)
        if cached is None or cached[0] != stamp:
            text = self._read_or_create(
                path, lambda: Signer.generate(origin).skey, f"jejak keys create --log {log_id}"
            )
            signer = Signer.from_skey(text.strip())
            if signer.name != origin:
                raise MissingKey(
                    f"{path} signs for {signer.name!r}, but log {log_id} has origin {origin!r}"
                )
            cached = self._signers[log_id] = (stamp, signer)
        signer = cached[1]
        if vkey is not None and signer.vkey != vkey:
            raise MissingKey(
                f"{path} is not the key log {log_id} signs with ({vkey}): if its rotation was "
                f"interrupted, run `jejak keys rotate --log {log_id}` again to finish it"
            )
        return signer

    def create_log_key(self, log_id: str, origin: str) -> Signer:
        signer = Signer.generate(origin)
        create_private_file(self.log_key_path(log_id), signer.skey)
        return signer

    def label_key_path(self, log_id: str) -> Path:
        return self.directory / f"label-{check_log_id(log_id)}.pem"

    def token_key_path(self) -> Path:
        return self.directory / "token.pem"

    def label_key(self, log_id: str) -> Ed25519PrivateKey:
        """The KPU Kabupaten/Kota's label key."""
        return self._ed25519(self.label_key_path(log_id), f"jejak keys create --label {log_id}")

    def label_keys(self, log_id: str) -> dict[str, Ed25519PrivateKey]:
        """Every label key of the log the directory holds, current and retired, by kid
        (never created: restore re-signs labels only with keys from the backup)."""
        path = self.label_key_path(log_id)
        files = [path, *sorted(self.retired_directory.glob(f"{path.stem}-*{path.suffix}"))]
        keys = [self._ed25519(file, "") for file in files if file.exists()]
        return {thumbprint(key.public_key()): key for key in keys}

    def token_key(self) -> Ed25519PrivateKey:
        """The key that signs access tokens."""
        return self._ed25519(self.token_key_path(), "jejak keys create --token")

    def create_ed25519(self, path: Path) -> Ed25519PrivateKey:
        """A new label or token key at `path` (see label_key_path, token_key_path)."""
        create_private_file(path, _new_pem())
        return self._ed25519(path, "")

    def _ed25519(self, path: Path, command: str) -> Ed25519PrivateKey:
        stamp = _stamp(path)
        cached = self._keys.get(str(path))
        if cached is not None and cached[0] == stamp:
            return cached[1]
        key = _load_ed25519(path, self._read_or_create(path, _new_pem, command))
        self._keys[str(path)] = (stamp, key)  # as it was before reading: a change meanwhile reloads
        return key

    def next_log_signer(self, log_id: str, origin: str) -> Signer:
        """The log's next key, for its rotation (see _next)."""
        return Signer.from_skey(self._next(self.log_key_path(log_id), lambda: Signer.generate(origin).skey).strip())

    def next_ed25519(self, path: Path) -> Ed25519PrivateKey:
        """The next label or token key at `path`, for its rotation (see _next)."""
        return _load_ed25519(_pending(path), self._next(path, _new_pem))

    def _next(self, path: Path, make: Callable[[], str]) -> str:
        """The pending key of a rotation of `path`, written if this is the rotation's
        start; a rotation that was interrupted finds the key it started with."""
        pending = _pending(path)
        try:
            _write_private(pending, make())
        except FileExistsError:
            pass
        return pending.read_text()

    def put_in_place(self, path: Path, *, keep: bool) -> None:
        """End a rotation: the pending key takes the current one's place, which moves to
        retired/, named by the time it retired (unless not `keep`: a token key, whose
        public half is kept instead)."""
        if keep and path.exists():
            self.retired_directory.mkdir(mode=0o700, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            os.replace(path, self.retired_directory / f"{path.stem}-{stamp}{path.suffix}")
        os.replace(_pending(path), path)

    def retire_token_key(self, key: Ed25519PrivateKey) -> None:
        """Keep the public half of a token key being replaced: tokens it signed are
        accepted until they expire, counted from this file's time."""
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.retired_directory.mkdir(mode=0o700, exist_ok=True)
        (self.retired_directory / f"token-{thumbprint(key.public_key())}.pub").write_bytes(public)

    def retired_token_keys(self, lifetime: timedelta) -> list[Ed25519PublicKey]:
        """Token keys retired less than a token's lifetime ago, newest first."""
        since = time.time() - lifetime.total_seconds()
        found = []
        for path in self.retired_directory.glob("token-*.pub"):
            retired_at = path.stat().st_mtime
            key = serialization.load_pem_public_key(path.read_bytes())
            if retired_at > since and isinstance(key, Ed25519PublicKey):
                found.append((retired_at, key))
        return [key for _, key in sorted(found, key=lambda pair: -pair[0])]

    def _read_or_create(self, path: Path, make: Callable[[], str], command: str) -> str:
        if not path.exists():
            if not self.create_missing:
                raise MissingKey(f"no key at {path}: create it with `{command}`")
            try:
                _write_private(path, make())
            except FileExistsError:
                pass  # another process created it first: use theirs
        return path.read_text()


def load_signing_keys(keys: KeyStore, databases: LogDatabases) -> int:
    """Load every hosted log's signing key; raises MissingKey if one is absent."""
    logs = every_log(databases)
    for log in logs:
        keys.log_signer(log.id, log.origin)
    return len(logs)


def _pending(path: Path) -> Path:
    return path.with_name(f"{path.stem}.next{path.suffix}")


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_ino, status.st_mtime_ns


def _load_ed25519(path: Path, text: str) -> Ed25519PrivateKey:
    loaded = serialization.load_pem_private_key(text.encode(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise MissingKey(f"{path} is not an Ed25519 key")
    return loaded


def create_private_file(path: Path, secret: str) -> None:
    """A new key file, readable by its owner only; an existing key is never replaced."""
    if path.exists():
        raise FileExistsError(f"{path} exists: a key is never silently replaced")
    _write_private(path, secret)


def _write_private(path: Path, secret: str) -> None:
    private_directory(path.parent)
    # O_EXCL: two processes starting at once must not overwrite each other's key.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret if secret.endswith("\n") else secret + "\n")


def _new_pem() -> str:
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
