"""`jejak restore --from-mirror DIR`: bring logs back into a fresh database from a
mirror (or an export bundle), so the restored service serves the identical checkpoints."""

from __future__ import annotations

import sys
from pathlib import Path

from ledger.checkpoint import Checkpoint
from ledger.mirror import bundles_between
from ledger.note import parse_note

from models.restore import Restored, restore_log
from models.runtime import Runtime
from scripts.logsource import DirectorySource, LogSource, SourceError, open_source


def log_copies(location: str) -> list[LogSource]:
    """One log's copy (a mirror directory or bundle), or every log of a mirror directory."""
    path = Path(location)
    if path.is_dir() and not (path / "log.json").exists():
        copies: list[LogSource] = [DirectorySource(d) for d in sorted(path.iterdir()) if (d / "log.json").exists()]
        if not copies:
            raise SourceError(f"{location} holds no log copy (no log.json in it or its folders)")
        return copies
    return [open_source(location)]


def _notes(source: LogSource) -> list[str]:
    """The latest checkpoint and every one the copy kept."""
    notes = [source.checkpoint_note()]
    if isinstance(source, DirectorySource) and (source.root / "checkpoints").is_dir():
        notes += [p.read_text() for p in sorted((source.root / "checkpoints").iterdir())]
    return notes


def restore_copy(runtime: Runtime, source: LogSource) -> Restored:
    info = source.log_info()
    if info is None:
        raise SourceError(f"{source.location} has no log.json saying which log it holds")
    size = Checkpoint.parse(parse_note(source.checkpoint_note()).text).size  # verified in restore_log
    bundles = (source.entry_bundle(index, width) for index, width in bundles_between(0, size))

    def progress(done: int, total: int) -> None:
        if done % (256 * 200) < 256 or done == total:
            print(f"  {info['log']}: {done:,}/{total:,} entries", file=sys.stderr)

    return restore_log(
        runtime.databases, runtime.keys, runtime.witnesses, runtime.settings, info, _notes(source), bundles, progress
    )


def report(restored: Restored) -> str:
    lines = [
        f"{restored.log_id}: restored {restored.size:,} entries, {restored.checkpoints} checkpoints "
        f"({restored.cosignatures} cosignatures), {restored.items:,} items, {restored.devices} devices, "
        f"{restored.events:,} custody events",
        f"  {len(restored.actors)} actors are disabled placeholder accounts (restored-…): "
        "give people their accounts back with `jejak user add`, or enable these",
    ]
    if restored.labels_to_reprint:
        lines.append(
            f"  {len(restored.labels_to_reprint)} labels cannot be re-signed without the label key backup: "
            "reprint them (POST /api/v1/items/{id}/labels)"
        )
    if restored.unknown_witnesses:
        lines.append(
            f"  cosignatures of {', '.join(sorted(restored.unknown_witnesses))} were not kept: "
            "configure those witnesses in JEJAK_WITNESSES and restore again to keep them"
        )
    return "\n".join(lines)
