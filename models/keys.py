"""Private keys on disk, one file each, readable by the service's user only.

Keys never enter the database or git. Development generates a missing key on first
use; production refuses to run without the keys an operator installed.

- `log-<regency>.skey`: the log's checkpoint signer (C2SP signed-note key format);
- `label-<regency>.pem`: the KPU's label key (Ed25519, PKCS#8 PEM);
- `token.pem`: the key that signs access tokens (Ed25519, PKCS#8 PEM)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ledger.note import Signer

from models.errors import Unavailable
from models.logs import check_log_id


class MissingKey(Unavailable):
    title = "Signing key missing"


class KeyStore:
    def __init__(self, directory: Path, *, create_missing: bool) -> None:
        self.directory = directory
        self.create_missing = create_missing
        self._signers: dict[str, Signer] = {}
        self._keys: dict[str, Ed25519PrivateKey] = {}

    def log_key_path(self, log_id: str) -> Path:
        # Validated: the name becomes part of a file path.
        return self.directory / f"log-{check_log_id(log_id)}.skey"

    def log_signer(self, log_id: str, origin: str) -> Signer:
        """The log's checkpoint signer; its key name is the log's origin."""
        if (signer := self._signers.get(log_id)) is None:
            path = self.log_key_path(log_id)
            text = self._read_or_create(
                path, lambda: Signer.generate(origin).skey, f"jejak keys create --log {log_id}"
            )
            signer = Signer.from_skey(text.strip())
            if signer.name != origin:
                raise MissingKey(
                    f"{path} signs for {signer.name!r}, but log {log_id} has origin {origin!r}"
                )
            self._signers[log_id] = signer
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

    def token_key(self) -> Ed25519PrivateKey:
        """The key that signs access tokens."""
        return self._ed25519(self.token_key_path(), "jejak keys create --token")

    def create_ed25519(self, path: Path) -> Ed25519PrivateKey:
        """A new label or token key at `path` (see label_key_path, token_key_path)."""
        create_private_file(path, _new_pem())
        return self._ed25519(path, "")

    def _ed25519(self, path: Path, command: str) -> Ed25519PrivateKey:
        if (key := self._keys.get(path.name)) is None:
            text = self._read_or_create(path, _new_pem, command)
            loaded = serialization.load_pem_private_key(text.encode(), password=None)
            if not isinstance(loaded, Ed25519PrivateKey):
                raise MissingKey(f"{path} is not an Ed25519 key")
            key = self._keys[path.name] = loaded
        return key

    def _read_or_create(self, path: Path, make: Callable[[], str], command: str) -> str:
        if not path.exists():
            if not self.create_missing:
                raise MissingKey(f"no key at {path}: create it with `{command}`")
            try:
                _write_private(path, make())
            except FileExistsError:
                pass  # another process created it first: use theirs
        return path.read_text()


def create_private_file(path: Path, secret: str) -> None:
    """A new key file, readable by its owner only; an existing key is never replaced."""
    if path.exists():
        raise FileExistsError(f"{path} exists: a key is never silently replaced")
    _write_private(path, secret)


def _write_private(path: Path, secret: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
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
