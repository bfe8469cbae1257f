"""Private keys on disk, one file each, readable by the service's user only.

Keys never enter the database or git. Development generates a missing key on first
use; production refuses to run without the keys an operator installed."""

from __future__ import annotations

import os
from pathlib import Path

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

    def log_key_path(self, log_id: str) -> Path:
        # Validated: the name becomes part of a file path.
        return self.directory / f"log-{check_log_id(log_id)}.skey"

    def log_signer(self, log_id: str, origin: str) -> Signer:
        """The log's checkpoint signer; its key name is the log's origin."""
        if (signer := self._signers.get(log_id)) is not None:
            return signer
        path = self.log_key_path(log_id)
        if not path.exists():
            if not self.create_missing:
                raise MissingKey(
                    f"no signing key for log {log_id} at {path}: "
                    f"create it with `jejak keys create --log {log_id}`"
                )
            try:
                self._write_private(path, Signer.generate(origin).skey)
            except FileExistsError:
                pass  # another process created it first: use theirs
        signer = Signer.from_skey(path.read_text().strip())
        if signer.name != origin:
            raise MissingKey(
                f"{path} signs for {signer.name!r}, but log {log_id} has origin {origin!r}"
            )
        self._signers[log_id] = signer
        return signer

    def create_log_key(self, log_id: str, origin: str) -> Signer:
        path = self.log_key_path(log_id)
        if path.exists():
            raise FileExistsError(f"{path} exists: a log's key is never silently replaced")
        signer = Signer.generate(origin)
        self._write_private(path, signer.skey)
        return signer

    def _write_private(self, path: Path, secret: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once must not overwrite each other's key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secret + "\n")
