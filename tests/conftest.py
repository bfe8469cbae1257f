"""One suite, two databases: SQLite by default, PostgreSQL when DATABASE_URL says so.

The session starts from an empty database and applies the real Alembic migrations.
Tests never share a log: each takes a fresh one (the `new_log` fixture), which is how
a deployment keeps jurisdictions apart too, so no test can see another's entries.

Set JEJAK_TEST_REQUIRE_POSTGRES=1 (CI does) to make a missing PostgreSQL, or a
skipped PostgreSQL-only test, a failure rather than a quiet skip."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from api.app import create_app
from models.core import migrations
from models.core.settings import Settings
from models.log.tables import Log
from models.runtime import Runtime
from tests.helpers import serve_live

REQUIRE_POSTGRES = os.environ.get("JEJAK_TEST_REQUIRE_POSTGRES") == "1"


def _fresh_postgres(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = Settings(database_url=os.environ.get("DATABASE_URL", "sqlite://")).database_url
    if url == "sqlite://":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'jejak.db'}"
    elif url.startswith("postgresql"):
        _fresh_postgres(url)
    if REQUIRE_POSTGRES and not url.startswith("postgresql"):
        pytest.exit("JEJAK_TEST_REQUIRE_POSTGRES=1 but DATABASE_URL is not PostgreSQL", 3)
    migrations.upgrade(url)
    return url


@pytest.fixture(scope="session")
def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        host="jejak.test",
        keys_dir=tmp_path_factory.mktemp("keys"),
        checkpoint_interval=0.2,
    )


@pytest.fixture(scope="session")
def runtime(settings: Settings) -> Iterator[Runtime]:
    runtime = Runtime(settings)
    yield runtime
    runtime.close()


@pytest.fixture(scope="session")
def client(settings: Settings) -> Iterator[TestClient]:
    """The app, with its checkpointer off: tests sign checkpoints when they mean to."""
    with TestClient(create_app(settings, start_background=False)) as client:
        yield client


@pytest.fixture(scope="session")
def app_runtime(client: TestClient) -> Runtime:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


_log_numbers = itertools.count(1)


@pytest.fixture
def new_log(runtime: Runtime) -> Log:
    """A fresh, empty log with a code no other test uses (90.01, 90.02, ...). Modules
    with regencies of their own use fixed codes below 90, one module each: 81 account
    stops, 82 security, 83 fuzz, 84 audit trail, 85 custody reports, 86 EPCIS, 87 alert
    rules, 88 authorization, 89 export."""
    return _fresh_log(runtime)


@pytest.fixture
def second_log(runtime: Runtime) -> Log:
    """Another fresh log, for a test that needs a second regency beside new_log's."""
    return _fresh_log(runtime)


def _fresh_log(runtime: Runtime) -> Log:
    n = next(_log_numbers)
    return runtime.create_log(f"{90 + n // 100:02d}.{n % 100:02d}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql")):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: runs in the DATABASE_URL=postgresql pass")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if REQUIRE_POSTGRES and report.skipped and "postgres" in report.keywords:
        report.outcome = "failed"
        report.longrepr = "a PostgreSQL test was skipped while JEJAK_TEST_REQUIRE_POSTGRES=1"


@pytest.fixture(scope="module")
def live_server(settings: Settings) -> Iterator[str]:
    """The real service under uvicorn in its own process; yields its base URL. One per
    module, stopped at its end: its checkpointer signs every grown log of the test
    database, and tests elsewhere count on signing only when they mean to."""
    with serve_live(settings) as base:
        yield base
