"""One suite, two databases: SQLite by default, PostgreSQL when DATABASE_URL says so.

The session starts from an empty database and applies the real Alembic migrations.
Tests never share a log: each takes a fresh one (the `new_log` fixture, or a regency of
its own from tests/factories.py's new_regency), which is how a deployment keeps
jurisdictions apart too, so no test can see another's entries.

Set JEJAK_TEST_REQUIRE_POSTGRES=1 (CI does) to make a missing PostgreSQL, or a
skipped PostgreSQL-only test, a failure rather than a quiet skip.

Tests that start the service in a process of its own, drive a browser or run a
benchmark are marked `slow`: those on the live_server fixture and the browser tests
here, the rest where they are written. `pytest -m "not slow"` is the quick loop; CI
runs everything."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text

from api.app import create_app
from models.accounts import users
from models.accounts.actor import SCOPES, Role
from models.core import migrations
from models.core.settings import Settings, get_settings
from models.log.tables import Log
from models.runtime import Runtime
from models.webhooks.subscriptions import Subscription, delete_subscription
from tests.factories import (
    Area, Cast, Person, Phone, World, add_district, make_area, make_crew, make_person, make_world, new_regency,
)  # fmt: skip
from tests.helpers import fresh_database, serve_live

REQUIRE_POSTGRES = os.environ.get("JEJAK_TEST_REQUIRE_POSTGRES") == "1"


def _fresh_postgres(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def light_passwords() -> Iterator[PasswordHasher]:
    """Argon2id at its lightest cost in the tests' own process, which signs in thousands
    of accounts: at production's cost (64 MiB, 3 passes) each took 0.37 s to hash and
    check, most of the suite's time. The servers the tests start as processes of their
    own keep production's cost; this yields production's hasher, which
    test_security.py checks."""
    production = users._hasher
    users._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield production
    users._hasher = production


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


@pytest.fixture
def new_log(runtime: Runtime) -> Log:
    """A fresh, empty log of a regency no other test uses (new_regency)."""
    return runtime.create_log(new_regency())


@pytest.fixture
def area(runtime: Runtime, new_log: Log) -> Area:
    """The test's own route (make_area) in the test's own log: a regency's KPU, a
    district, two villages, three polling stations."""
    return make_area(runtime, new_log.id)


@pytest.fixture
def other_district(runtime: Runtime, area: Area) -> Area:
    """A second district of the area's regency (add_district), as an Area of its own."""
    return add_district(runtime, area.kpu)


@pytest.fixture
def crew(client: TestClient, runtime: Runtime, area: Area) -> Cast[Phone]:
    """The area's custodians, each with a registered phone, made as a test first asks
    for them: crew["kpu"], "ppk", "pps", "kpps" (the first polling station), "escort"."""
    return make_crew(client, runtime, area)


@pytest.fixture(scope="module")
def world(client: TestClient, runtime: Runtime) -> World:
    """Two regencies of the module's own, A and B, and everyone of each, made as the
    module's tests first ask for them: world.people["kpu"] of A, ["kpu-B"] of B."""
    return make_world(client, runtime)


@pytest.fixture
def integrator(client: TestClient, runtime: Runtime, area: Area) -> Person:
    """An integrator of the area's regency, with every scope (subscribes to webhooks)."""
    return make_person(client, runtime, Role.INTEGRATOR, area.kpu, scopes=SCOPES)


@pytest.fixture
def no_subscriptions_left(runtime: Runtime) -> Iterator[None]:
    """No webhook subscription but the test's own: those earlier tests left are deleted
    before it (their deliveries would be due in its delivery rounds too), and its own
    when it ends, so that no later test's worker sends to a receiver that is gone."""

    def delete_all() -> None:
        with runtime.db.session(write=True) as session:
            for subscription in session.scalars(select(Subscription)).all():
                delete_subscription(session, subscription)

    delete_all()
    yield
    delete_all()


@pytest.fixture
def fresh_settings(settings: Settings, database_url: str, tmp_path: Path) -> Iterator[Settings]:
    """The suite's settings on a new, empty database of the same kind (fresh_database),
    with a keys directory of its own: where a restore, or a key backup put back, goes."""
    with fresh_database(database_url, tmp_path) as url:
        yield settings.model_copy(update={"database_url": url, "keys_dir": tmp_path / "keys-from-backup"})


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Iterator[None]:
    """`jejak` on the suite's database and keys, as another process of the service would be."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("JEJAK_KEYS_DIR", str(settings.keys_dir))
    monkeypatch.setenv("JEJAK_HOST", settings.host)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def own_cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """`jejak` on a SQLite database (tmp/cli.db, not yet migrated) and keys (tmp/keys)
    of its own, for host jejak.example; yields the folder."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("JEJAK_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("JEJAK_HOST", "jejak.example")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.hookimpl(tryfirst=True)  # marked slow before -m chooses
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres", "postgresql"))
    skip = pytest.mark.skip(reason="needs PostgreSQL: runs in the DATABASE_URL=postgresql pass")
    for item in items:
        if "live_server" in getattr(item, "fixturenames", ()) or "browser" in item.keywords:
            item.add_marker(pytest.mark.slow)
        if "postgres" in item.keywords and not on_postgres:
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
