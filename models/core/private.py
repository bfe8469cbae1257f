"""Files on disk that only the service's own user may read: the SQLite database (password
hashes, webhook secrets) and the private keys. A local account, or a backup agent
running as another user, must not read them because the umask happened to be lax."""

from __future__ import annotations

import os
from pathlib import Path


def private_directory(path: Path) -> None:
    """Make `path` if missing, as a directory only its owner may enter (0700). An
    existing one is left as it is: it may be the operator's, and its files are tightened
    one by one."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def private_file(path: Path, *, create: bool) -> None:
    """`path` readable and writable by its owner only (0600): created so if `create` and
    missing, tightened if it exists with more (a file from before this rule)."""
    if create:
        # O_EXCL: never open (and close) a file that exists. Closing any descriptor of an
        # SQLite database drops every POSIX lock this process holds on it, and a
        # connection that lost its locks corrupts the database.
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    if mode & 0o077:
        path.chmod(mode & 0o700)
