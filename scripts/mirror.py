"""`jejak mirror`: keep a complete, checked copy of one or more logs in a directory.

Each log gets DIR/<log>/ in the tlog-tiles layout (see scripts/logsource.py), so a
mirror can itself be served as static files, verified with `jejak verify DIR/<log>`,
and restored into a new server with `jejak restore --from-mirror`. A copy only grows
to a checkpoint whose signature verifies and whose root the copy's own tree reaches
from what it already held; anything else is refused, reported, and the offending
signed checkpoint kept as evidence. Needs ledger/ and HTTP only, like the verifier."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from ledger.checkpoint import Checkpoint
from ledger.mirror import Growth, MirrorError, bundles_between
from ledger.note import Verifier
from ledger.rotation import handover_size

from scripts.logsource import DirectorySource, HttpSource, LogSource, MissingResource, SourceError, open_source

STAGING = ".incoming"
REFUSED = "refused"


class MirrorRefused(Exception):
    """The log served something that cannot extend the copy held."""


@dataclass(frozen=True)
class Mirrored:
    log: str
    old_size: int
    size: int


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


class LogMirror:
    """The copy of one log in `root`, pinned to the log's checkpoint verifier key, which
    it follows across the log's key rotations (see LogSource.verify_checkpoint)."""

    def __init__(self, root: Path, verifier: Verifier) -> None:
        self.root = root
        self.verifier = verifier

    def held(self) -> Checkpoint | None:
        """The checkpoint the copy holds, checked again: a copy is not trusted blindly."""
        try:
            note = (self.root / "checkpoint").read_text()
        except FileNotFoundError:
            return None
        return DirectorySource(self.root).verify_checkpoint(note, self.verifier).checkpoint

    def update(self, source: LogSource, log_id: str, note: str, progress: bool = False) -> Mirrored:
        """Grow the copy to `note`, the source's latest checkpoint, or refuse it."""
        try:
            opened = source.verify_checkpoint(note, self.verifier)
        except ValueError as error:
            raise MirrorRefused(f"{log_id}: the checkpoint's signature does not verify: {error}") from error
        checkpoint = opened.checkpoint
        held = self.held()
        old = held.size if held else 0
        if held is not None:
            if checkpoint.origin != held.origin:
                self._refuse(note, f"the log now calls itself {checkpoint.origin}, not {held.origin}")
            if checkpoint.size < held.size:
                self._refuse(note, f"the log shrank from {held.size} to {checkpoint.size} entries")
            if checkpoint.size == held.size and checkpoint.root != held.root:
                self._refuse(note, f"two different trees of size {held.size}: the log forked")
        staging = self.root / STAGING
        shutil.rmtree(staging, ignore_errors=True)
        try:
            try:
                root = self._grow(source, old, checkpoint.size, staging, progress)
            except MirrorError as error:
                self._refuse(note, str(error))
            if root != checkpoint.root:
                self._refuse(
                    note,
                    f"the entries served do not make the root of the checkpoint of size {checkpoint.size}: "
                    f"the log is not consistent with the copy of {old} entries held",
                )
            self._move_in(staging)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        # The checkpoint last: until it is written, the copy is still the one held. The
        # handovers of key rotations stay beside it, for verifiers pinning an older key.
        for index, handover in opened.handovers:
            _write_atomically(self.root / "checkpoints" / str(handover_size(index)), handover.encode())
        _write_atomically(self.root / "checkpoints" / str(checkpoint.size), note.encode())
        _write_atomically(self.root / "checkpoint", note.encode())
        retired = {k["retired_index"]: k for k in DirectorySource(self.root).retired_keys()}
        retired |= {k["retired_index"]: k for k in opened.retired_keys}
        info: dict[str, object] = {"log": log_id, "origin": checkpoint.origin, "verifier_key": opened.keys[-1].vkey}
        if retired:
            info["retired_keys"] = [retired[index] for index in sorted(retired)]
        _write_atomically(self.root / "log.json", json.dumps(info, indent=2).encode())
        return Mirrored(log_id, old, checkpoint.size)

    def _grow(self, source: LogSource, old: int, new: int, staging: Path, progress: bool) -> bytes:
        held = DirectorySource(self.root)

        def write(path: str, data: bytes) -> None:
            target = staging / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

        growth = Growth(old, held.read)
        started = time.monotonic()
        for index, width in bundles_between(old, new):
            growth.add(index, source.entry_bundle(index, width), write)
            if progress and index % 64 == 63:
                rate = (growth.size - old) / max(time.monotonic() - started, 1e-9)
                print(f"  {growth.size:,}/{new:,} entries ({rate:,.0f}/s)", file=sys.stderr)
        return growth.finish(write)

    def _move_in(self, staging: Path) -> None:
        for path in sorted(staging.rglob("*")):
            if path.is_file():
                target = self.root / path.relative_to(staging)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)

    def _refuse(self, note: str, reason: str) -> NoReturn:
        """Keep the signed checkpoint that proves the log misbehaved, then refuse."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        _write_atomically(self.root / REFUSED / f"{stamp}.checkpoint", note.encode())
        raise MirrorRefused(f"{reason}; the copy is unchanged, the refused checkpoint kept in {REFUSED}/")


def _sources(locations: list[str]) -> list[tuple[str, LogSource]]:
    """(log id, source) for every log named: a /logs/<log> URL, or a server URL for all its logs."""
    sources: list[tuple[str, LogSource]] = []
    for location in locations:
        source = open_source(location)
        if isinstance(source, HttpSource) and source.log_id is None:
            listed = source.api("/api/v1/logs").get("logs", [])
            source.close()
            for log in listed:
                sources.append((log["log"], HttpSource(f"{location.rstrip('/')}/logs/{log['log']}")))
        elif isinstance(source, HttpSource):
            sources.append((source.log_id or "", source))
        else:
            info = source.log_info() or {}
            if "log" not in info:
                raise SourceError(f"{location} has no log.json naming its log")
            sources.append((info["log"], source))
    return sources


def _verifier(log_id: str, origin: str, keys: dict[str, Verifier], root: Path) -> Verifier:
    """The pinned key: given on the command line, or the one this copy was made with."""
    if origin in keys:
        return keys[origin]
    try:
        pinned = json.loads((root / "log.json").read_text())["verifier_key"]
    except (FileNotFoundError, KeyError, ValueError):
        raise SourceError(f"{log_id}: no --key for {origin}, and no copy pinned to one yet") from None
    return Verifier.from_vkey(pinned)


def mirror(directory: Path, locations: list[str], keys: list[str], progress: bool = True) -> int:
    """One pass over every log; returns how many were refused or unreadable."""
    pinned = {v.name: v for v in (Verifier.from_vkey(k) for k in keys)}
    failures = 0
    for log_id, source in _sources(locations):
        with source:
            root = directory / log_id
            try:
                note = source.checkpoint_note()
                origin = note.split("\n", 1)[0]  # checked against the key's name when opened
                copy = LogMirror(root, _verifier(log_id, origin, pinned, root))
                result = copy.update(source, log_id, note, progress)
            except (MirrorRefused, SourceError, MissingResource, ValueError) as error:
                print(f"{log_id}: REFUSED: {error}", file=sys.stderr)
                failures += 1
                continue
        grown = result.size - result.old_size
        print(f"{log_id}: {result.size:,} entries held ({grown:+,})")
    return failures
