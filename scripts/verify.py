"""`jejak verify`: an auditor checks a log with nothing but its verifier key.

Reads the log through its tlog-tiles paths (a server URL, a mirror directory or an
export bundle), checks the checkpoint's signature and the cosignatures of the
witnesses named, then every entry (ledger/audit.py) with the signature checks spread
over a process pool, and, given a checkpoint saved by an earlier run, that the log
only grew from it, and replays every box's custody by the server's own rules
(models/custody/replay.py): a recorded flag, a `missing` entry or a handoff's closing
other than the rules give is a failure. `--item` checks one box's trail by inclusion
proofs instead. Needs ledger/, HTTP and the pure custody rules only: nothing of the
server's database.

Exit status: 0 when everything verifies, 1 on any failure, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import base64
import gc
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from ledger.audit import (
    ENTRY_TYPES,
    Audit,
    Checked,
    Failure,
    KeyRing,
    audit_log,
    check_consistency,
    check_entry,
)
from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.cosignature import CosignatureError, CosignatureVerifier, verify_cosignature
from ledger.merkle import ProofError, inclusion_proof, verify_inclusion
from ledger.note import NoteError, Verifier, parse_note
from ledger.tiles import TILE_WIDTH, TileKey, decode_entry_bundle

from models.custody.replay import CustodyReplay, not_rechecked
from scripts.logsource import HttpSource, LogSource, SourceError, bundle_widths, open_source

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """The command line cannot be acted on (exit status 2)."""


_verify_keys: dict[bytes, VerifyKey | None] = {}


def verify_nacl(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Ed25519 with libsodium, the fastest here; each device's key is parsed once."""
    key = _verify_keys.get(public_key, False)
    if key is False:
        try:
            key = _verify_keys[public_key] = VerifyKey(public_key)
        except ValueError:
            key = _verify_keys[public_key] = None
    if key is None:
        return False
    try:
        key.verify(message, signature)
    except (BadSignatureError, ValueError):
        return False
    return True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "location", help="the log's tlog-tiles URL (http://host/logs/53.03), a mirror directory or a .tar.gz bundle"
    )
    parser.add_argument("--key", help="the log's checkpoint verifier key, name+keyid+base64 (pin it)")
    parser.add_argument("--since", metavar="FILE", help="a checkpoint saved by an earlier run: the log must extend it")
    parser.add_argument("--save-checkpoint", metavar="FILE", help="save the checkpoint here if everything verifies")
    parser.add_argument(
        "--witness", action="append", default=[], metavar="VKEY", help="a witness's cosignature verifier key (repeatable)"
    )
    parser.add_argument("--quorum", type=int, help="cosignatures required from the --witness keys (default: all)")
    parser.add_argument("--item", metavar="ITEM_ID", help="check one item's trail by inclusion proofs (server URL only)")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="processes checking signatures (0: none, all in this one)"
    )
    parser.add_argument("--limit", type=int, default=100, help="failures listed at most (all are counted)")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")


@dataclass
class Outcome:
    """What a run found: the log-wide findings, then the audit's."""

    checkpoint: Checkpoint | None = None
    pinned: bool = True
    witnesses: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    audit: Audit | None = None
    replay: CustodyReplay | None = None
    seconds: float = 0.0

    @property
    def failure_count(self) -> int:
        return len(self.failures) + (self.audit.failure_count if self.audit else 0)


def _log_key(args: argparse.Namespace, source: LogSource) -> tuple[Verifier, bool]:
    """The pinned --key, or else what the copy itself claims, loudly unpinned."""
    text = args.key
    pinned = text is not None
    if text is None:
        info = source.log_info() or {}
        text = info.get("verifier_key")
        if not isinstance(text, str):
            raise UsageError("--key is required: give the log's verifier key (name+keyid+base64)")
        print(
            f"WARNING: no --key given; trusting the verifier key {text} that {source.location} "
            "itself claims. This proves the copy is self-consistent, NOT that it is the log you "
            "mean: pin the key with --key.",
            file=sys.stderr,
        )
    try:
        return Verifier.from_vkey(text), pinned
    except ValueError as error:
        raise UsageError(f"--key {text!r} is not an Ed25519 verifier key: {error}") from error


def _witnesses(args: argparse.Namespace) -> tuple[list[CosignatureVerifier], int]:
    witnesses = []
    for text in args.witness:
        try:
            witnesses.append(CosignatureVerifier.from_vkey(text))
        except ValueError as error:
            raise UsageError(f"--witness {text!r} is not a cosignature/v1 verifier key: {error}") from error
    quorum = len(witnesses) if args.quorum is None else args.quorum
    if not 0 <= quorum <= len(witnesses):
        raise UsageError(f"--quorum {quorum} must be between 0 and the {len(witnesses)} --witness keys given")
    return witnesses, quorum


def check_cosignatures(
    note: str, witnesses: Sequence[CosignatureVerifier], quorum: int, outcome: Outcome
) -> None:
    """Each witness's cosignature on the checkpoint; at least `quorum` must verify."""
    parsed = parse_note(note)
    cosigned = 0
    for witness in witnesses:
        lines = [s.line() for s in parsed.signatures if (s.name, s.key_id) == (witness.name, witness.key_id)]
        if not lines:
            outcome.witnesses.append(f"{witness.name}: no cosignature")
            continue
        try:
            timestamp = verify_cosignature(parsed.text, lines[0], witness)
        except CosignatureError as error:
            outcome.failures.append(Failure(None, None, f"witness {witness.name}: {error}"))
            continue
        cosigned += 1
        moment = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        outcome.witnesses.append(f"{witness.name}: cosigned at {moment}")
    if cosigned < quorum:
        outcome.failures.append(
            Failure(None, None, f"{cosigned} of the {len(witnesses)} witnesses cosigned the checkpoint, "
                    f"{quorum} required")
        )


def _since(path: str, keys: Sequence[Verifier]) -> Checkpoint:
    """The saved checkpoint, signed by the pinned key or one the log rotated to since."""
    try:
        note = Path(path).read_text()
    except OSError as error:
        raise UsageError(f"--since {path}: {error.strerror or error}") from error
    for key in keys[:-1]:
        try:
            return open_checkpoint(note, key)[0]
        except ValueError:
            continue
    return open_checkpoint(note, keys[-1])[0]


class _Progress:
    """Entries checked so far, on stderr, about once a second."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.total = total
        self.quiet = quiet
        self.started = self.shown = time.monotonic()

    def __call__(self, done: int) -> None:
        now = time.monotonic()
        if self.quiet or now - self.shown < 1:
            return
        self.shown = now
        rate = done / max(now - self.started, 1e-9)
        print(
            f"  {done:,}/{self.total:,} entries ({100 * done / max(self.total, 1):.0f}%), {rate:,.0f} entries/s",
            file=sys.stderr,
            flush=True,
        )


def _pool(workers: int) -> Executor | None:
    if workers < 1:
        return None
    # fork: the workers start with ledger/ already imported, in milliseconds. They are
    # started here, before any thread of ours (the HTTP read-ahead) could hold a lock.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    # The workers' garbage collections leave what they inherit alone: touching it would
    # copy every page of this process into each of them.
    gc.freeze()
    try:
        pool = ProcessPoolExecutor(workers, mp_context=context)
        pool.submit(int).result()
    finally:
        gc.unfreeze()
    return pool


class _ReadAhead:
    """Over HTTP, the next entry bundles and their level-0 hash tiles are fetched in
    threads while earlier ones are checked: the round trips overlap, not add up."""

    def __init__(self, source: LogSource, size: int, depth: int = 16) -> None:
        self.source = source
        self.threads = ThreadPoolExecutor(4, thread_name_prefix="read-ahead")
        self.next = bundle_widths(size)
        self.depth = depth
        self.fetching: dict[tuple[int | None, int, int], Future[bytes]] = {}
        self._fill()

    def _fill(self) -> None:
        while len(self.fetching) < 2 * self.depth and (bundle := next(self.next, None)) is not None:
            index, width = bundle
            self.fetching[(None, index, width)] = self.threads.submit(self.source.bundle_data, index, width)
            self.fetching[(0, index, width)] = self.threads.submit(self.source.hash_tiles, [(0, index, width)])

    def _take(self, key: tuple[int | None, int, int]) -> Future[bytes] | None:
        future = self.fetching.pop(key, None)
        self._fill()
        return future

    def bundle_data(self, index: int, width: int) -> bytes:
        future = self._take((None, index, width))
        return future.result() if future is not None else self.source.bundle_data(index, width)

    def hash_tiles(self, keys: Sequence[TileKey]) -> list[bytes]:
        future = self._take(keys[0]) if len(keys) == 1 else None
        return list(future.result()) if future is not None else self.source.hash_tiles(keys)

    def close(self) -> None:
        self.threads.shutdown(cancel_futures=True)


def _replaying(read: Callable[[int, int], bytes], replay: CustodyReplay) -> Callable[[int, int], bytes]:
    """Bundles are read in log order: each is handed to the custody replay as it comes,
    in this process (the rules need the log's order, the signatures do not)."""

    def read_bundle(index: int, width: int) -> bytes:
        data = read(index, width)
        try:
            entries = decode_entry_bundle(data)[:width]
        except ValueError:
            return data  # the audit reports it
        first = index * TILE_WIDTH
        for offset, entry in enumerate(entries):
            try:
                record = orjson.loads(entry)
            except orjson.JSONDecodeError:
                continue  # the audit reports it
            if type(record) is dict:
                replay.add(first + offset, record)
        return data

    return read_bundle


def verify_whole(
    source: LogSource, checkpoint: Checkpoint, audit: Audit, replay: CustodyReplay, workers: int, quiet: bool
) -> None:
    pool = _pool(workers)
    reader = _ReadAhead(source, checkpoint.size) if isinstance(source, HttpSource) else source
    try:
        audit_log(
            checkpoint.size,
            _replaying(reader.bundle_data, replay),
            reader.hash_tiles,
            audit,
            verify=verify_nacl,
            ahead=4 * max(workers, 1),
            progress=_Progress(checkpoint.size, quiet),
            submit=pool.submit if pool is not None else None,
        )
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        if isinstance(reader, _ReadAhead):
            reader.close()
    audit.finish(checkpoint, source.hash_tiles)
    for failure in replay.finish():
        audit.fail(failure)


def verify_item(source: LogSource, checkpoint: Checkpoint, item_id: str, audit: Audit, outcome: Outcome) -> None:
    """One item's trail from the server's index of it: each entry proven included in
    the checkpoint, the chain from seq 1, each scan's signature with its device's key
    as registered in the log."""
    assert isinstance(source, HttpSource)
    listing = source.item_entries(item_id)
    listed = [int(i) for i in listing.get("entries", [])]
    wanted = set(listed)
    for device in listing.get("devices", []):
        wanted |= {int(device[k]) for k in ("registered", "revoked") if device.get(k) is not None}
    newer = sorted(i for i in wanted if i >= checkpoint.size)
    if newer:
        outcome.notes.append(
            f"entries {', '.join(map(str, newer))} are newer than the checkpoint (size {checkpoint.size}) "
            "and were not checked: run again once it covers them"
        )
    wanted -= set(newer)
    if not listed:
        outcome.failures.append(Failure(None, item_id, "the server lists no entry of this item"))
    entries: dict[int, bytes] = {}
    keyring = KeyRing()
    for bundle in sorted({i // TILE_WIDTH for i in wanted}):
        first = bundle * TILE_WIDTH
        data = source.bundle_data(bundle, min(TILE_WIDTH, checkpoint.size - first))
        keyring.learn(first, data)
        for offset, entry in enumerate(decode_entry_bundle(data)):
            if first + offset in wanted:
                entries[first + offset] = entry
    reader = source.tile_reader(checkpoint.size)
    for index in sorted(wanted):
        entry = entries.get(index)
        if entry is None:
            audit.fail(Failure(index, item_id, "is not in its entry bundle"))
            continue
        failures: list[Failure] = []
        fact = check_entry(index, entry, audit.origin, keyring.keys, verify_nacl, failures)
        try:
            verify_inclusion(fact.leaf, index, checkpoint.size, inclusion_proof(index, checkpoint.size, reader),
                             checkpoint.root)
        except (ProofError, ValueError, SourceError) as error:
            failures.append(Failure(index, fact.item, f"is not included in the checkpoint: {error}"))
        if index in listed and fact.item != item_id:
            failures.append(Failure(index, fact.item, f"is listed for item {item_id} but is about {fact.item}"))
        audit.add(Checked([fact], failures, None, (None, None)), entries.__getitem__)


def run(args: argparse.Namespace) -> int:
    witnesses, quorum = _witnesses(args)
    if args.workers < 0 or args.limit < 1:
        raise UsageError("--workers must be 0 or more, --limit 1 or more")
    try:
        source = open_source(args.location)
    except SourceError as error:
        if not args.location.startswith(("http://", "https://")) and not Path(args.location).exists():
            raise UsageError(str(error)) from error
        print(f"FAILED: {error}")
        return EXIT_FAILED
    if args.item is not None and not isinstance(source, HttpSource):
        source.close()
        raise UsageError("--item needs the server's URL; a mirror or bundle is checked whole")
    outcome = Outcome()
    started = time.perf_counter()
    with source:
        verifier, outcome.pinned = _log_key(args, source)
        try:
            note = source.checkpoint_note()
            opened = source.verify_checkpoint(note, verifier)
        except (SourceError, ValueError) as error:
            outcome.failures.append(Failure(None, None, f"the checkpoint does not verify with the log key: {error}"))
            return report(outcome, args)
        checkpoint = outcome.checkpoint = opened.checkpoint
        outcome.notes += [
            f"the log key was rotated at entry {index}: followed from {old.vkey} to {new.vkey}"
            for (index, _), old, new in zip(opened.handovers, opened.keys[:-1], opened.keys[1:], strict=True)
        ]
        check_cosignatures(note, witnesses, quorum, outcome)
        if args.since:
            try:
                saved = _since(args.since, opened.keys)
            except (NoteError, ValueError) as error:
                outcome.failures.append(Failure(None, None, f"the saved checkpoint {args.since} does not verify: {error}"))
            else:
                failure = check_consistency(saved, checkpoint, source.tile_reader(checkpoint.size))
                if failure is not None:
                    outcome.failures.append(failure)
                else:
                    outcome.notes.append(f"consistent with the checkpoint saved at size {saved.size}")
        outcome.audit = Audit(checkpoint.origin, whole=args.item is None, limit=args.limit, verify=verify_nacl)
        try:
            if args.item is None:
                outcome.replay = CustodyReplay(checkpoint.origin.rsplit("/", 1)[-1])
                verify_whole(source, checkpoint, outcome.audit, outcome.replay, args.workers, args.quiet)
            else:
                verify_item(source, checkpoint, args.item, outcome.audit, outcome)
        except SourceError as error:
            outcome.failures.append(Failure(None, args.item, f"reading the log failed: {error}"))
    outcome.seconds = time.perf_counter() - started
    status = report(outcome, args)
    if status == EXIT_OK and args.save_checkpoint:
        Path(args.save_checkpoint).write_text(note)
        print(f"saved the checkpoint to {args.save_checkpoint}")
    return status


def _counts(counter: dict[str, int]) -> str:
    return ", ".join(f"{name} {count:,}" for name, count in sorted(counter.items(), key=lambda kv: -kv[1]))


def report(outcome: Outcome, args: argparse.Namespace) -> int:
    """The summary on stdout; returns the exit status."""
    lines: list[str] = []
    checkpoint = outcome.checkpoint
    if checkpoint is not None:
        root = base64.b64encode(checkpoint.root).decode()
        lines.append(f"log         {checkpoint.origin}")
        lines.append(
            f"checkpoint  size {checkpoint.size:,}, root {root}, signed by the log key"
            + ("" if outcome.pinned else " (NOT pinned: taken from the copy itself)")
        )
    lines += [f"witness     {w}" for w in outcome.witnesses]
    audit = outcome.audit
    if audit is not None:
        s = audit.summary
        what = f"item {args.item}: " if args.item else ""
        revoked = sum(d.revoked is not None for d in audit.devices.values())
        lines.append(
            f"entries     {what}{s.entries:,} checked; items {len(audit.chains):,}; devices {len(audit.devices):,} "
            f"({revoked:,} revoked); label keys {len(audit.label_keys):,}; scan signatures verified {s.signatures:,}"
        )
        if s.types:
            lines.append(f"types       {_counts(s.types)}")
        if unknown := {kind: n for kind, n in s.types.items() if kind not in ENTRY_TYPES}:
            outcome.notes.append(
                f"entry types this verifier does not know: {_counts(unknown)}; their bytes, chains and "
                "tree are checked, not their meaning"
            )
        if outcome.replay is not None:
            lines.append(
                f"custody     {outcome.replay.scans:,} scans replayed by the custody rules; not re-checked: "
                f"{not_rechecked()}"
            )
        if s.first_received:
            lines.append(f"received    {s.first_received} to {s.last_received}")
        if outcome.seconds and s.entries:
            lines.append(f"time        {outcome.seconds:.2f} s, {s.entries / outcome.seconds:,.0f} entries/s")
    lines += [f"note        {n}" for n in outcome.notes]
    failures = outcome.failures + (audit.failures if audit else [])
    if outcome.failure_count:
        lines.append(f"FAILED: {outcome.failure_count:,} problem{'s' * (outcome.failure_count > 1)}"
                     + (f", the first {len(failures)} listed" if len(failures) < outcome.failure_count else ""))
        lines += [f"  {failure}" for failure in failures]
    else:
        lines.append("OK: everything verifies")
    print("\n".join(lines), flush=True)
    return EXIT_FAILED if outcome.failure_count else EXIT_OK


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="jejak verify", description=__doc__.split("\n\n")[0])
    add_arguments(top)
    return top


def command(args: argparse.Namespace) -> int:
    try:
        return run(args)
    except UsageError as error:
        print(f"jejak verify: {error}", file=sys.stderr)
        return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """`jejak verify ...` as a function, for tests and other tools."""
    return command(parser().parse_args(argv))
