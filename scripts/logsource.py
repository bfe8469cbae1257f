"""Where a log is read from: its tlog-tiles URL, a mirror directory, or an export bundle.

All three hold the same relative paths: `checkpoint`, `tile/<L>/<N>[.p/<W>]`,
`tile/entries/<N>[.p/<W>]`, and in copies also `checkpoints/<size>` and `log.json`
({"log", "origin", "verifier_key"}). So the verifier and the mirror read any of them
through one `LogSource.read(path)`, and nothing here trusts what it reads: callers
check it against a signed checkpoint.
"""

from __future__ import annotations

import json
import re
import tarfile
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from ledger.checkpoint import Checkpoint, open_checkpoint
from ledger.merkle import HASH_SIZE
from ledger.note import Verifier, parse_note
from ledger.rotation import RotationError, follow, handover_size
from ledger.tiles import (
    TILE_WIDTH,
    ExpandedTile,
    TileCache,
    TileHashReader,
    TileKey,
    decode_entry_bundle,
    entries_path,
    tile_path,
)

# Relative paths only, in plain components: nothing can read outside a directory.
_SAFE_PATH = re.compile(r"[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)*")


class SourceError(Exception):
    """A log cannot be read from where it was said to be."""


class MissingResource(SourceError):
    """The source does not hold `path`."""

    def __init__(self, location: str, path: str) -> None:
        super().__init__(f"{location} has no {path}")
        self.location = location
        self.path = path


def check_path(path: str) -> str:
    if not _SAFE_PATH.fullmatch(path) or ".." in path.split("/"):
        raise ValueError(f"{path!r} is not a relative path inside a log")
    return path


def bundle_widths(size: int) -> Iterator[tuple[int, int]]:
    """(bundle index, width) of every entry bundle of a tree of `size`, in order."""
    for index in range(0, (size + TILE_WIDTH - 1) // TILE_WIDTH):
        yield index, min(TILE_WIDTH, size - index * TILE_WIDTH)


class _TileMemo(dict[TileKey, ExpandedTile]):
    def put(self, key: TileKey, tile: ExpandedTile) -> None:
        self[key] = tile


@dataclass(frozen=True)
class Opened:
    """A checkpoint verified with the pinned key or a key the log rotated to from it."""

    checkpoint: Checkpoint
    keys: list[Verifier]  # the pinned key, then each key followed to; the last signed it
    handovers: list[tuple[int, str]]  # (index of the log_key entry, its handover checkpoint)

    @property
    def retired_keys(self) -> list[dict[str, Any]]:
        """The keys followed away from, as log.json and GET /api/v1/logs list them."""
        return [
            {"verifier_key": key.vkey, "retired_index": index}
            for key, (index, _) in zip(self.keys[:-1], self.handovers, strict=True)
        ]


class LogSource:
    """One log's resources by relative path; subclasses say where they come from."""

    def __init__(self, location: str) -> None:
        self.location = location
        self._tiles = _TileMemo()

    def read(self, path: str) -> bytes:
        """The bytes at `path`; raises MissingResource if the source has none."""
        raise NotImplementedError

    def close(self) -> None:
        """Let go of connections and temporary files."""

    def __enter__(self) -> LogSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def checkpoint_note(self) -> str:
        """The latest checkpoint as published: a signed note, not yet verified."""
        return self.read("checkpoint").decode()

    def log_info(self) -> dict[str, Any] | None:
        """The copy's own description of the log (log.json), if it has one. Unsigned:
        a verifier key read here is only what the copy claims."""
        try:
            info = json.loads(self.read("log.json"))
        except MissingResource:
            return None
        except ValueError as error:
            raise SourceError(f"{self.location}: log.json is not JSON: {error}") from error
        if not isinstance(info, dict):
            raise SourceError(f"{self.location}: log.json is not a JSON object")
        return info

    def retired_keys(self) -> list[dict[str, Any]]:
        """The log keys the log says it retired, each with the index of the `log_key` entry
        that retired it (log.json, or GET /api/v1/logs). A hint: each rotation is checked
        when followed."""
        listed = (self.log_info() or {}).get("retired_keys") or []
        return [k for k in listed if isinstance(k, dict) and type(k.get("retired_index")) is int]

    def verify_checkpoint(self, note: str, pinned: Verifier) -> Opened:
        """Verify `note`, a checkpoint of this log, with the pinned key or, across the log's
        key rotations (ledger/rotation.py), with the key it handed over to: each
        handover, `checkpoints/<size>`, must be signed by the key trusted until then.
        Raises ValueError (or SourceError) if neither verifies it."""
        try:
            return Opened(open_checkpoint(note, pinned)[0], [pinned], [])
        except ValueError as error:
            unrotated = error
        rotations = sorted({k["retired_index"] for k in self.retired_keys()})
        if not rotations:
            raise RotationError(f"{unrotated}; the log lists no key rotation")
        claimed = Checkpoint.parse(parse_note(note).text)  # its size and root, checked below
        reader = self.tile_reader(claimed.size)
        keys, handovers, passed = [pinned], [], []
        for index in rotations:
            if index >= claimed.size:
                break
            first = index - index % TILE_WIDTH
            try:
                entry = self.entry_bundle(first // TILE_WIDTH, min(TILE_WIDTH, claimed.size - first))[index - first]
                handover = self.read(f"checkpoints/{handover_size(index)}").decode()
                keys.append(follow(keys[-1], index, entry, handover, claimed, reader))
            except (RotationError, MissingResource) as error:
                passed.append(str(error))  # a rotation before the pinned key's time, or a bad one
                continue
            handovers.append((index, handover))
        if len(keys) == 1:
            why = "; ".join(passed) or "none is covered by the checkpoint"
            raise RotationError(f"{unrotated}; no key rotation of the log leads from {pinned.vkey}: {why}")
        return Opened(open_checkpoint(note, keys[-1])[0], keys, handovers)

    def _read_tile(self, full_path: str, partial_path: str, width: int) -> bytes:
        """A partial tile, or the full tile that has replaced it once the log grew
        (C2SP tlog-tiles lets a client read the full tile instead)."""
        try:
            return self.read(partial_path)
        except MissingResource:
            if width == TILE_WIDTH:
                raise
            return self.read(full_path)

    def hash_tiles(self, keys: Sequence[TileKey]) -> list[bytes]:
        """Encoded hash tiles by (level, index, width): a ledger.tiles FetchTiles."""
        tiles = []
        for level, index, width in keys:
            data = self._read_tile(tile_path(level, index), tile_path(level, index, width), width)
            tiles.append(data[: width * HASH_SIZE])
        return tiles

    def tile_reader(self, size: int, cache: TileCache | None = None) -> TileHashReader:
        """Complete-subtree hashes of the tree of `size`, read from this source's tiles
        (each tile once: tiles never change, so by default the source keeps them)."""
        return TileHashReader(size, self.hash_tiles, self._tiles if cache is None else cache)

    def bundle_data(self, index: int, width: int) -> bytes:
        """Entry bundle `index` as encoded, possibly the full bundle for a partial one."""
        return self._read_tile(entries_path(index), entries_path(index, width), width)

    def entry_bundle(self, index: int, width: int) -> list[bytes]:
        """The `width` entries of bundle `index` (entries 256·index onwards)."""
        path = entries_path(index, width)
        data = self.bundle_data(index, width)
        try:
            entries = decode_entry_bundle(data)
        except ValueError as error:
            raise SourceError(f"{self.location}: {path} is not an entry bundle: {error}") from error
        if len(entries) < width:
            raise SourceError(
                f"{self.location}: {path} holds {len(entries)} entries, expected {width}"
            )
        return entries[:width]


class DirectorySource(LogSource):
    """A mirror directory of one log."""

    def __init__(self, root: Path) -> None:
        super().__init__(str(root))
        self.root = root

    def read(self, path: str) -> bytes:
        try:
            return (self.root / check_path(path)).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            raise MissingResource(self.location, path) from None


class BundleSource(DirectorySource):
    """An export bundle: a .tar.gz of a mirror directory, unpacked to a temporary one."""

    def __init__(self, bundle: Path) -> None:
        self._unpacked = tempfile.TemporaryDirectory(prefix="jejak-bundle-")
        root = Path(self._unpacked.name)
        try:
            with tarfile.open(bundle, "r:*") as tar:
                # The "data" filter refuses links, devices and paths leaving the directory.
                tar.extractall(root, filter="data")
        except (tarfile.TarError, OSError) as error:
            self._unpacked.cleanup()
            raise SourceError(f"{bundle} is not a readable .tar.gz bundle: {error}") from error
        super().__init__(root)
        self.location = str(bundle)

    def close(self) -> None:
        self._unpacked.cleanup()


class HttpSource(LogSource):
    """A log served over HTTP(S) at its tlog-tiles prefix, e.g. http://host/logs/53.03."""

    def __init__(
        self,
        url: str,
        *,
        client: httpx.Client | None = None,
        timeout: float = 20.0,
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        super().__init__(url.rstrip("/"))
        self.retries = retries
        self.backoff = backoff
        self._own_client = client is None
        self.client = client or httpx.Client(
            timeout=timeout, follow_redirects=True, headers={"User-Agent": "jejak"}
        )

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def read(self, path: str) -> bytes:
        return self._get(f"{self.location}/{check_path(path)}", path)

    @property
    def log_id(self) -> str | None:
        """The log's name when the URL has the server's /logs/<log> shape."""
        match = re.search(r"/logs/([^/]+)$", urlsplit(self.location).path)
        return match.group(1) if match else None

    @property
    def server(self) -> str:
        """The server's base URL: the tiles prefix without /logs/<log>."""
        log_id = self.log_id
        return self.location[: -len(f"/logs/{log_id}")] if log_id else self.location

    def api(self, path: str) -> Any:
        """JSON from the server's API, e.g. api("/api/v1/logs")."""
        body = self._get(self.server + path, path)
        try:
            return json.loads(body)
        except ValueError as error:
            raise SourceError(f"{self.server}{path} did not answer JSON: {error}") from error

    def log_info(self) -> dict[str, Any] | None:
        """The log as the server lists it (GET /api/v1/logs): unsigned, like log.json."""
        if self.log_id is None:
            return None
        listed = self.api("/api/v1/logs").get("logs", [])
        return next((log for log in listed if log.get("log") == self.log_id), None)

    def item_entries(self, item_id: str) -> Any:
        """The server's index of one item's entries and the registrations of the devices
        that signed them (GET /api/v1/logs/{log}/items/{item}/entries)."""
        if self.log_id is None:
            raise SourceError(f"{self.location} is not a /logs/<log> URL of a Jejak server")
        return self.api(f"/api/v1/logs/{self.log_id}/items/{quote(item_id, safe='')}/entries")

    def _get(self, url: str, path: str) -> bytes:
        """GET with a few retries on connection errors and 5xx answers; 404 is missing."""
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self.client.get(url)
            except httpx.TransportError as error:
                problem = f"{type(error).__name__}: {error}"
                continue
            if response.status_code == 200:
                return response.content
            if response.status_code == 404:
                raise MissingResource(self.location, path)
            problem = f"HTTP {response.status_code}: {response.text[:200]}"
            if response.status_code < 500:
                break
        raise SourceError(f"GET {url} failed: {problem}")


def open_source(location: str) -> LogSource:
    """A URL, a mirror directory or a .tar.gz export bundle, by what `location` is."""
    if location.startswith(("http://", "https://")):
        return HttpSource(location)
    path = Path(location)
    if path.is_dir():
        return DirectorySource(path)
    if path.is_file():
        return BundleSource(path)
    raise SourceError(
        f"{location} is neither an http(s) URL, a mirror directory nor an export bundle"
    )
