"""Logs on several databases: every table that grows with a log is keyed by the log
first, so a log's rows can live on a database of their own (JEJAK_LOG_DATABASES).

The home database (DATABASE_URL) keeps the accounts, every site, and each log that no
route names. A routed log's database holds its log and custody tables, a copy of the
sites of its regency (its items, handoffs and custody rules refer to them) and a
disabled stand-in of each account that registered a phone there (its devices refer
to it: models/places/wilayah.py's share_sites); see docs/SCALING.md for what is
routed and what is not."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from models.core.db import Database


class LogDatabases(Protocol):
    """Where each log lives: one Database (all logs) or a routing Databases."""

    def for_log(self, code: str) -> Database: ...

    def each(self) -> list[Database]: ...

    @property
    def home(self) -> Database:
        """Where the accounts and the sites live."""
        ...


class Databases:
    """The home database and the databases other logs live on, one engine per URL."""

    def __init__(self, home: Database, routes: Sequence[tuple[str, str]]) -> None:
        self.home = home
        by_url = {home.url: home}
        for _, url in routes:
            by_url.setdefault(url, Database(url))
        # Longest first: a regency's own route wins over its province's.
        self.routes = sorted(((prefix, by_url[url]) for prefix, url in routes), key=lambda r: -len(r[0]))
        self._all = list(by_url.values())

    def for_log(self, code: str) -> Database:
        """The database of the log a code belongs to: a log, site or item code (each
        starts with its regency's code)."""
        for prefix, database in self.routes:
            if code.startswith(prefix):
                return database
        return self.home

    def each(self) -> list[Database]:
        return self._all

    def dispose(self) -> None:
        for database in self._all:
            database.dispose()
