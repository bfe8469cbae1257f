"""Enrollment sheets written to files, for `jejak user import --sheets`, `jejak user
sheet` and the demo: the PDF of api/users/sheet.py, one per village (its PPS and KPPS),
district or regency of each account, or one for a site."""

from __future__ import annotations

from datetime import timedelta
from itertools import groupby
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.users.sheet import cards, enrollment_sheet_pdf
from models.accounts.users import User
from models.core.base import utcnow
from models.places.sites import site_names


def write_sheets(
    session: Session, public_url: str, codes: dict[str, str], lifetime: timedelta, folder: Path, *,
    name: str = "", site: str = "",
) -> list[tuple[Path, int]]:
    """Write the sheets of these accounts (username → its new code) into `folder`: one
    file `name` for `site`, else `pendaftaran-<place>.pdf` per place. Returns each file
    and its number of officers; the files are 0600 (the codes are credentials until spent)."""
    usernames = sorted(codes)
    users: list[User] = []
    for start in range(0, len(usernames), 500):
        users += session.scalars(select(User).where(User.username.in_(usernames[start : start + 500])))
    place = (lambda user: site) if site else (lambda user: user.jurisdiction[:13])  # a TPS's village
    users.sort(key=lambda user: (place(user), user.jurisdiction, user.username))
    names = site_names(session, {user.jurisdiction for user in users} | {place(user) for user in users})
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    now, written = utcnow(), []
    for where, group in groupby(users, key=place):
        rows = [(user, codes[user.username]) for user in group]
        path = folder / (name or f"pendaftaran-{where}.pdf")
        path.write_bytes(enrollment_sheet_pdf(where, names.get(where, ""), cards(rows, names, public_url, now + lifetime), now))
        path.chmod(0o600)
        written.append((path, len(rows)))
    return written
