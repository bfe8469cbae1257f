"""Bulk onboarding: a CSV of officers becomes accounts, each with a one-time enrollment
code (models/accounts/enrollment.py) instead of a password.

The file is judged whole before anything is written: every row's errors are listed,
and one wrong row creates nothing. Importing the same file again changes nothing: an
officer is known by their NIK (an escort by their NRP), and a row that matches an
existing account exactly is `unchanged`; one that contradicts it is an error.

Usernames are made from the role and the place (`pps.53.03.08.2001.1`), never from a
name or a NIK: usernames appear in the audit trail, personal data must not."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.accounts import enrollment, policy, trail
from models.accounts.actor import Actor, Role
from models.accounts.users import NRP, User
from models.core.errors import Forbidden, InvalidRequest
from models.core.inputs import unsafe_character
from models.places.codes import SiteLevel, level_of
from models.places.sites import Site

COLUMNS = ("name", "role", "jurisdiction", "nik", "nrp", "phone")
REQUIRED = ("name", "role", "jurisdiction", "phone")
MAX_ROWS = 20_000
NIK = re.compile(r"\d{16}")
PERIOD = re.compile(r"[a-z0-9][a-z0-9._-]{1,31}")
# Where each role works: the level of its jurisdiction.
LEVELS: dict[Role, frozenset[SiteLevel]] = {
    Role.KPU: frozenset({SiteLevel.KPU}),
    Role.PPK: frozenset({SiteLevel.PPK}),
    Role.PPS: frozenset({SiteLevel.PPS}),
    Role.KPPS: frozenset({SiteLevel.TPS}),
    Role.ESCORT: frozenset({SiteLevel.KPU, SiteLevel.PPK}),  # Polres, Polsek
    Role.AUDITOR: frozenset(SiteLevel),
}
# Officials carry the NIK of their KTP; police officers their NRP.
NEEDS_NIK = frozenset({Role.KPU, Role.PPK, Role.PPS, Role.KPPS})


@dataclass(frozen=True)
class Officer:
    """One row, checked."""

    row: int  # the line of the file, counting the header as 1
    name: str
    role: Role
    jurisdiction: str
    nik: str | None
    nrp: str | None
    phone: str

    @property
    def identity(self) -> tuple[str, str]:
        return ("nrp", self.nrp) if self.role is Role.ESCORT else ("nik", self.nik or "")


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


class ImportRefused(InvalidRequest):
    """The file has errors: nothing was created. Each is listed (`errors`)."""

    status = 422
    title = "The import has errors"
    code = "import_refused"

    def __init__(self, errors: list[RowError], status: int = 422) -> None:
        rows = len({e.row for e in errors})
        super().__init__(f"{len(errors)} error(s) in {rows} row(s): nothing was imported; fix them and import again")
        self.status = status
        self.errors = errors
        self.extra = {"errors": [e.as_dict() for e in errors]}


@dataclass
class Imported:
    """What an import did (or, dry, would do): accounts made with their codes, rows left as they were."""

    created: list[dict[str, Any]] = field(default_factory=list)  # row, username, role, jurisdiction, code
    unchanged: list[dict[str, Any]] = field(default_factory=list)  # row, username


def normalize_phone(text: str) -> str | None:
    """An Indonesian mobile number as +62…, from `0812…`, `62812…` or `+62 812-…`."""
    digits = re.sub(r"[\s().-]", "", text)
    if digits.startswith("+62"):
        digits = digits[3:]
    elif digits.startswith("62"):
        digits = digits[2:]
    elif digits.startswith("0"):
        digits = digits[1:]
    else:
        return None
    return f"+62{digits}" if re.fullmatch(r"8\d{7,11}", digits) else None


def parse(text: str) -> tuple[list[Officer], list[RowError]]:
    """The rows of a CSV (header: COLUMNS, any order; nik or nrp may be absent), each
    checked on its own: the officers, and every row's errors."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED if name not in header]
    if missing or not ("nik" in header or "nrp" in header):
        wanted = ", ".join(COLUMNS)
        raise InvalidRequest(f"the first line names the columns: {wanted} (nik or nrp may be left out); missing: "
                             f"{', '.join(missing) or 'nik/nrp'}")  # fmt: skip
    if unknown := [name for name in header if name not in COLUMNS]:
        raise InvalidRequest(f"unknown columns {unknown}; the columns are {', '.join(COLUMNS)}")
    reader.fieldnames = header
    officers, errors = [], []
    for number, raw in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            raise InvalidRequest(f"an import has at most {MAX_ROWS} rows: split the file")
        if None in raw:
            errors.append(RowError(number, "", f"{len(header)} columns expected, this row has more"))
            continue
        row = {key: (value or "").strip() for key, value in raw.items()}
        if not any(row.values()):
            continue  # a blank line
        found, officer = _check(number, row)
        errors += found
        if officer is not None:
            officers.append(officer)
    return officers, errors


def _check(number: int, row: dict[str, str]) -> tuple[list[RowError], Officer | None]:
    errors = []

    def wrong(name: str, message: str) -> None:
        errors.append(RowError(number, name, message))

    for name, value in row.items():
        if (bad := unsafe_character(value)) is not None:
            wrong(name, f"plain text only: the control character U+{ord(bad):04X} is not allowed")
    if not row["name"] or len(row["name"]) > 200:
        wrong("name", "the officer's name is required (at most 200 characters)")
    role = None
    try:
        role = Role(row["role"].lower())
    except ValueError:
        pass
    if role not in LEVELS:
        wrong("role", f"role {row['role']!r} cannot be imported; one of: {', '.join(r.value for r in LEVELS)}")
        role = None
    jurisdiction = row["jurisdiction"]
    try:
        level = level_of(jurisdiction)
        if role is not None and level not in LEVELS[role]:
            places = " or ".join(sorted(l.value.upper() for l in LEVELS[role]))
            wrong("jurisdiction", f"a {role} works at a {places}: {jurisdiction} is a {level.value.upper()}")
    except InvalidRequest as error:
        wrong("jurisdiction", error.detail)
    nik, nrp = row.get("nik") or None, row.get("nrp") or None
    if nik is not None and not NIK.fullmatch(nik):
        wrong("nik", "a NIK has 16 digits, as on the KTP")
    if nrp is not None and not NRP.fullmatch(nrp):
        wrong("nrp", "an NRP is 4 to 32 letters and digits, as on the officer's card")
    if role in NEEDS_NIK and nik is None:
        wrong("nik", f"a {role} officer's NIK is required")
    if role is Role.ESCORT and nrp is None:
        wrong("nrp", "an escort's NRP is required: their pickups and deliveries name them by it")
    if role is not None and role is not Role.ESCORT and nrp is not None:
        wrong("nrp", "only escorts (police) carry an NRP")
    phone = normalize_phone(row["phone"])
    if phone is None:
        wrong("phone", "a mobile number such as 0812 3456 7890 or +62 812 3456 7890")
    if errors or role is None or phone is None:
        return errors, None
    return [], Officer(number, row["name"], role, jurisdiction, nik, nrp, phone)


def import_officers(
    session: Session,
    by: Actor | None,
    text: str,
    *,
    period: str | None,
    code_lifetime: timedelta,
    dry_run: bool = False,
) -> Imported:
    """Judge the whole file, then (unless `dry_run`) make its new accounts, each with an
    enrollment code, in the caller's transaction. Raises ImportRefused listing every
    error (403 when a row is outside what `by` may manage); `by` None is the command line."""
    if period is not None and not PERIOD.fullmatch(period):
        raise InvalidRequest("an election period is 2 to 32 lower-case letters, digits, '.', '_' or '-': pemilu-2029")
    officers, errors = parse(text)
    refusals = _refusals(by, officers)
    errors += _duplicates(officers) + _unknown_places(session, officers)
    existing, conflicts = _existing(session, officers, period)
    errors += conflicts
    if refusals:
        raise ImportRefused(sorted(refusals + errors, key=lambda e: e.row), status=403)
    if errors:
        raise ImportRefused(sorted(errors, key=lambda e: e.row))
    result = Imported()
    new = []
    for officer in officers:
        if (user := existing.get(officer.identity)) is not None:
            result.unchanged.append({"row": officer.row, "username": user.username})
        else:
            new.append(officer)
    usernames = _usernames(session, new)
    if dry_run:
        result.created = [_made(o, name, None) for o, name in zip(new, usernames, strict=True)]
        return result
    users = [
        User(username=username, password_hash=enrollment.NO_PASSWORD, role=o.role, jurisdiction=o.jurisdiction,
             full_name=o.name, nik=o.nik, nrp=o.nrp, phone=o.phone, period=period)
        for o, username in zip(new, usernames, strict=True)
    ]  # fmt: skip
    session.add_all(users)
    session.flush()
    codes = enrollment.issue_many(session, by, users, code_lifetime)
    for officer, user in zip(new, users, strict=True):
        result.created.append(_made(officer, user.username, codes[user.id]))
        trail.record(
            session, by, "user.create", user.username,
            {"id": str(user.id), "role": user.role.value, "import": True, "period": period},
            jurisdiction=user.jurisdiction,
        )
    return result


def _made(officer: Officer, username: str, code: str | None) -> dict[str, Any]:
    return {
        "row": officer.row, "username": username, "role": officer.role.value,
        "jurisdiction": officer.jurisdiction, "code": code,
    }  # fmt: skip


def _refusals(by: Actor | None, officers: Iterable[Officer]) -> list[RowError]:
    if by is None:
        return []
    refused = []
    for officer in officers:
        try:
            policy.permit_account(by, "users.import", officer.role, officer.jurisdiction)
        except Forbidden as error:
            refused.append(RowError(officer.row, "jurisdiction", error.detail))
    return refused


def _duplicates(officers: list[Officer]) -> list[RowError]:
    seen = Counter(officer.identity for officer in officers)
    return [
        RowError(o.row, o.identity[0], f"this {o.identity[0].upper()} is on {seen[o.identity]} rows of the file")
        for o in officers
        if seen[o.identity] > 1
    ]


def _unknown_places(session: Session, officers: list[Officer]) -> list[RowError]:
    codes = sorted({officer.jurisdiction for officer in officers})
    known = set()
    for start in range(0, len(codes), 500):
        known.update(session.scalars(select(Site.code).where(Site.code.in_(codes[start : start + 500]))))
    return [
        RowError(o.row, "jurisdiction", f"there is no site {o.jurisdiction}")
        for o in officers
        if o.jurisdiction not in known
    ]


def _existing(
    session: Session, officers: list[Officer], period: str | None
) -> tuple[dict[tuple[str, str], User], list[RowError]]:
    """The accounts the file's officers already have, by identity, and the rows that
    contradict theirs."""
    found: dict[tuple[str, str], User] = {}
    for column, kind in ((User.nik, "nik"), (User.nrp, "nrp")):
        values = sorted({o.identity[1] for o in officers if o.identity[0] == kind})
        for start in range(0, len(values), 500):
            for user in session.scalars(select(User).where(column.in_(values[start : start + 500]))):
                found[(kind, getattr(user, kind))] = user
    errors = []
    for officer in officers:
        user = found.get(officer.identity)
        if user is None:
            continue
        theirs = (user.full_name, user.role, user.jurisdiction, user.phone, user.period)
        if (officer.name, officer.role, officer.jurisdiction, officer.phone, period) != theirs:
            errors.append(RowError(
                officer.row, officer.identity[0],
                f"this {officer.identity[0].upper()} is already account {user.username} "
                f"({user.role}, {user.jurisdiction}) with other details: change that account, or fix the row",
            ))  # fmt: skip
    return found, errors


def _usernames(session: Session, officers: list[Officer]) -> list[str]:
    """A new username for each officer: role and place, numbered after those taken."""
    prefixes = {_prefix(o) for o in officers}
    last: dict[str, int] = defaultdict(int)  # the highest number taken, by prefix
    jurisdictions = sorted({o.jurisdiction for o in officers})
    for start in range(0, len(jurisdictions), 500):
        chunk = jurisdictions[start : start + 500]
        for username in session.scalars(select(User.username).where(User.jurisdiction.in_(chunk))):
            prefix, _, number = username.rpartition(".")
            if prefix in prefixes and number.isdigit():
                last[prefix] = max(last[prefix], int(number))
    names = []
    for officer in officers:
        prefix = _prefix(officer)
        last[prefix] += 1
        names.append(f"{prefix}.{last[prefix]}")
    return names


def _prefix(officer: Officer) -> str:
    return f"{officer.role.value}.{officer.jurisdiction.replace('-', '.')}"
