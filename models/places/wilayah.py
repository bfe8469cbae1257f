"""Loading Indonesia's administrative areas and polling stations into `sites`.

Regencies (KPU), districts (PPK) and villages (PPS) come from the wilayah CSVs that
ship in scripts/wilayah (idn-area-data, ODbL: see its README); polling stations (TPS)
from a CSV per election. Imports are idempotent: a code already present is left as
it is and counted as skipped, because custody records point at sites and an import
must never rewrite one under them."""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from models.core.db import Database
from models.core.errors import InvalidRequest
from models.core.routing import LogDatabases
from models.places.sites import Kerawanan, Site, SiteLevel, level_of, parent_of

# The copy of idn-area-data 4.0.1 that ships with the project.
SHIPPED = Path(__file__).resolve().parents[2] / "scripts" / "wilayah"

# Rows per INSERT executemany and codes per IN (...): big enough to be fast on the
# 83,762 villages, small enough for any driver's parameter limits.
INSERT_CHUNK = 5000
LOOKUP_CHUNK = 500

TPS_HEADER = ("code", "village", "number", "kerawanan", "lat", "lon")
_TPS_NUMBER = re.compile(r"[0-9]{1,3}")
_PROVINCE = re.compile(r"[0-9]{2}")
NOUNS = {
    SiteLevel.KPU: "regencies",
    SiteLevel.PPK: "districts",
    SiteLevel.PPS: "villages",
    SiteLevel.TPS: "polling stations",
}

Progress = Callable[[str], None]


@dataclass(frozen=True)
class _Layer:
    level: SiteLevel
    filename: str
    header: tuple[str, str, str]
    example: str


_LAYERS = (
    _Layer(SiteLevel.KPU, "regencies.csv", ("code", "province_code", "name"), "53.03"),
    _Layer(SiteLevel.PPK, "districts.csv", ("code", "regency_code", "name"), "53.03.08"),
    _Layer(SiteLevel.PPS, "villages.csv", ("code", "district_code", "name"), "53.03.08.2005"),
)


@dataclass
class ImportCounts:
    created: Counter[SiteLevel] = field(default_factory=Counter)
    skipped: Counter[SiteLevel] = field(default_factory=Counter)
    # Every regency the imported rows belong to, created or not: each needs its log.
    regencies: set[str] = field(default_factory=set)

    def summary(self) -> str:
        parts = [
            f"{NOUNS[level]}: {self.created[level]:,} created, {self.skipped[level]:,} already there"
            for level in SiteLevel
            if self.created[level] or self.skipped[level]
        ]
        return "; ".join(parts) or "nothing to import"


def _bad(path: Path, line: int, problem: str) -> InvalidRequest:
    return InvalidRequest(f"{path.name} line {line}: {problem}")


def read_rows(path: Path, header: Sequence[str]) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of each data row of a UTF-8 CSV with exactly this header."""
    if not path.is_file():
        raise InvalidRequest(f"{path}: no such file")
    with path.open("rb") as handle:
        reader = csv.reader(_text_lines(path, handle))
        try:
            first = next(reader, [])
            if tuple(first) != tuple(header):
                raise _bad(path, 1, f"the header must be {','.join(header)}, not {','.join(first)!r}")
            for row in reader:
                if not row:
                    continue  # a blank line, e.g. at the end
                if len(row) != len(header):
                    raise _bad(path, reader.line_num, f"expected {len(header)} fields, found {len(row)}")
                yield reader.line_num, [value.strip() for value in row]
        except csv.Error as error:
            raise _bad(path, reader.line_num, f"not valid CSV ({error})") from error


def _text_lines(path: Path, handle: BinaryIO) -> Iterator[str]:
    """Decoded line by line, so that a bad byte is reported on its own line."""
    for number, raw in enumerate(handle, 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _bad(path, number, "the file is not UTF-8 text") from None
        yield line.removeprefix("\ufeff") if number == 1 else line  # a BOM, as spreadsheets write


def _is_level(code: str, level: SiteLevel) -> bool:
    try:
        return level_of(code) is level
    except InvalidRequest:
        return False


def site_row(code: str, level: SiteLevel, name: str, parent: str | None) -> dict[str, Any]:
    """A `sites` row for a bulk insert: no kerawanan, no coordinates."""
    return {
        "code": code,
        "level": level,
        "name": name,
        "parent_code": parent,
        "regency": code[:5],
        "kerawanan": None,
        "special": False,
        "lat": None,
        "lon": None,
        "coords_synthetic": False,
    }


def _area_row(layer: _Layer, path: Path, line: int, fields: list[str]) -> dict[str, Any]:
    code, parent, name = fields
    if not _is_level(code, layer.level):
        raise _bad(path, line, f"{code!r} is not a {layer.level.upper()} code like {layer.example}")
    # Regencies name their province, which is no site: it only has to be the code's prefix.
    expected = code[:2] if layer.level is SiteLevel.KPU else parent_of(code)
    if parent != expected:
        raise _bad(path, line, f"{code} lies under {expected}, but the row says {parent!r}")
    if not 0 < len(name) <= 200:
        raise _bad(path, line, f"{code} needs a name of 1 to 200 characters")
    return site_row(code, layer.level, name, None if layer.level is SiteLevel.KPU else parent)


def codes_in(session: Session, regencies: set[str] | None) -> set[str]:
    """Every site code of these regencies (of all, for None). One read of a whole
    regency, not a probe per code: PostgreSQL plans long IN (...) lists over a table it
    has no statistics for yet (a first import) as a scan per probe, minutes in all."""
    query = select(Site.code)
    if regencies is None:
        return set(session.scalars(query))
    ordered = sorted(regencies)
    found: set[str] = set()
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        chunk = ordered[start : start + LOOKUP_CHUNK]
        found.update(session.scalars(query.where(Site.regency.in_(chunk))))
    return found


def _insert(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    # Core executemany: the ORM's unit of work costs several times more per row.
    for start in range(0, len(rows), INSERT_CHUNK):
        session.execute(insert(cast(Table, Site.__table__)), rows[start : start + INSERT_CHUNK])


def insert_new(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Insert the rows whose code is not in `sites` yet; returns how many were."""
    known = codes_in(session, {row["regency"] for row in rows})
    new = [row for row in rows if row["code"] not in known]
    _insert(session, new)
    return len(new)


def _check_filter(regencies: set[str]) -> None:
    if bad := sorted(code for code in regencies if not _is_level(code, SiteLevel.KPU)):
        raise InvalidRequest(f"not regency codes (like 53.03): {', '.join(bad)}")


def _read_layer(
    layer: _Layer, directory: Path, regencies: set[str] | None
) -> list[tuple[int, dict[str, Any]]]:
    path = directory / layer.filename
    rows: list[tuple[int, dict[str, Any]]] = []
    seen: set[str] = set()
    for line, fields in read_rows(path, layer.header):
        row = _area_row(layer, path, line, fields)
        if row["code"] in seen:
            raise _bad(path, line, f"{row['code']} appears a second time")
        seen.add(row["code"])
        if regencies is None or row["regency"] in regencies:
            rows.append((line, row))
    return rows


def _check_parents(
    path: Path, rows: list[tuple[int, dict[str, Any]]], known: set[str], hint: str
) -> None:
    for line, row in rows:
        if row["parent_code"] not in known:
            raise _bad(path, line, f"{row['code']} belongs to {row['parent_code']}, {hint}")


def import_areas(
    session: Session,
    directory: Path | str,
    *,
    regencies: set[str] | None = None,
    progress: Progress | None = None,
) -> ImportCounts:
    """Regencies, districts and villages from regencies/districts/villages.csv, all of
    them or those of `regencies` only. Every row is checked before anything is
    written."""
    directory = Path(directory)
    say = progress or (lambda _: None)
    if regencies is not None:
        _check_filter(regencies)
    layers = [_read_layer(layer, directory, regencies) for layer in _LAYERS]
    known = codes_in(session, regencies)
    if absent := sorted((regencies or set()) - known - {row["code"] for _, row in layers[0]}):
        raise InvalidRequest(f"{', '.join(absent)}: no such regency in {directory / 'regencies.csv'}")
    # Every parent is checked before anything is written: it is in the layer above
    # in this import, or in the database already.
    present = set(known)
    for below in (1, 2):
        present.update(row["code"] for _, row in layers[below - 1])
        hint = "which is neither in this import nor in the database"
        _check_parents(directory / _LAYERS[below].filename, layers[below], present, hint)
    counts = ImportCounts()
    for layer, rows in zip(_LAYERS, layers, strict=True):
        new = [row for _, row in rows if row["code"] not in known]
        say(f"{layer.filename}: {len(rows):,} {NOUNS[layer.level]}, {len(new):,} of them new")
        _insert(session, new)
        counts.created[layer.level] += len(new)
        counts.skipped[layer.level] += len(rows) - len(new)
        counts.regencies.update(row["regency"] for _, row in rows)
    return counts


def regencies_in_provinces(directory: Path | str, provinces: Sequence[str]) -> set[str]:
    """The regency codes of these provinces (like 53), from regencies.csv."""
    if bad := [code for code in provinces if not _PROVINCE.fullmatch(code)]:
        raise InvalidRequest(f"not province codes (like 53): {', '.join(bad)}")
    path = Path(directory) / "regencies.csv"
    found = {
        fields[0]
        for _, fields in read_rows(path, _LAYERS[0].header)
        if fields[1] in provinces
    }
    if empty := sorted(set(provinces) - {code[:2] for code in found}):
        raise InvalidRequest(f"{', '.join(empty)}: no regencies of such a province in {path}")
    return found


def _coordinate(path: Path, line: int, name: str, text: str, limit: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _bad(path, line, f"{name} {text!r} is not a number") from None
    if not (math.isfinite(value) and -limit <= value <= limit):
        raise _bad(path, line, f"{name} {text} is outside -{limit:g}..{limit:g}")
    return value


def _tps_row(path: Path, line: int, fields: list[str]) -> dict[str, Any]:
    code, village, number, kerawanan, lat, lon = fields
    if not _is_level(village, SiteLevel.PPS):
        raise _bad(path, line, f"village {village!r} is not a village code like 53.03.08.2005")
    if not _TPS_NUMBER.fullmatch(number) or int(number) == 0:
        raise _bad(path, line, f"number {number!r} is not a TPS number from 1 to 999")
    expected = f"{village}-{int(number):03d}"
    if code != expected:
        raise _bad(path, line, f"code {code!r} should be {expected}: village, '-', number in 3 digits")
    try:
        rawan = Kerawanan(kerawanan)
    except ValueError:
        choices = ", ".join(k.value for k in Kerawanan)
        raise _bad(path, line, f"kerawanan {kerawanan!r} is not one of {choices}") from None
    if bool(lat) != bool(lon):
        raise _bad(path, line, "give both lat and lon, or neither")
    row = site_row(code, SiteLevel.TPS, f"TPS {int(number):03d}", village)
    row["kerawanan"] = rawan
    if lat:
        row["lat"] = _coordinate(path, line, "lat", lat, 90)
        row["lon"] = _coordinate(path, line, "lon", lon, 180)
    return row


def import_tps(session: Session, csv_path: Path | str) -> ImportCounts:
    """Polling stations from a CSV `code,village,number,kerawanan,lat,lon`. Their
    villages must be known already; coordinates, when given, are surveyed ones."""
    path = Path(csv_path)
    rows: list[tuple[int, dict[str, Any]]] = []
    seen: set[str] = set()
    for line, fields in read_rows(path, TPS_HEADER):
        row = _tps_row(path, line, fields)
        if row["code"] in seen:
            raise _bad(path, line, f"{row['code']} appears a second time")
        seen.add(row["code"])
        rows.append((line, row))
    known = codes_in(session, {row["regency"] for _, row in rows})
    _check_parents(path, rows, known, "an unknown village: import the areas first (jejak sites import)")
    created = insert_new(session, [row for _, row in rows])
    counts = ImportCounts()
    counts.created[SiteLevel.TPS] = created
    counts.skipped[SiteLevel.TPS] = len(rows) - created
    counts.regencies = {row["regency"] for _, row in rows}
    return counts


def share_sites(databases: LogDatabases, home: Database, regencies: set[str]) -> int:
    """Copy the sites of these regencies from the home database to the databases their
    logs live on, if elsewhere; sites already there are kept. Returns how many were new."""
    copied = 0
    for regency in sorted(regencies):
        target = databases.for_log(regency)
        if target is home:
            continue
        with home.reads() as session:
            rows: list[dict[str, Any]] = [
                dict(row._mapping) for row in session.execute(select(*Site.__table__.columns).where(Site.regency == regency))
            ]
        with target.session(write=True) as session:
            copied += insert_new(session, sorted(rows, key=_parents_first))
    return copied


def _parents_first(row: dict[str, Any]) -> tuple[int, str]:
    # Each site refers to its parent: insert the regency, then districts, villages, TPS.
    return (len(row["code"]), row["code"])
