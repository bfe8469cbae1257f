"""Logs on two PostgreSQL servers (JEJAK_LOG_DATABASES): the test's own database holds
Jembrana's log (51.01), a throwaway cluster this module starts (initdb and pg_ctl in a
temporary directory, on a free port) holds Tabanan's (51.02). A simulated election
drives both through one live server; each log appends and verifies, and neither
database holds a row of the other's log."""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select, text

from models.core import migrations
from models.core.base import Base
from models.core.db import Database
from models.core.routing import Databases
from models.core.settings import Settings
from models.runtime import Runtime
from scripts import simulate
from scripts.bench_ledger import recreate_database
from tests.helpers import free_port, serve_live

HOME, ROUTED = "51.01", "51.02"


def _postgres_program(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)
    if found is None:
        pytest.fail(f"{name} not found: the routing test starts a PostgreSQL cluster of its own")
    return found


@pytest.fixture(scope="module")
def second_cluster() -> Iterator[str]:
    """A PostgreSQL server of its own (run as the postgres user if we are root, since
    initdb refuses root), stopped and deleted afterwards; yields a database URL on it."""
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    data = tempfile.mkdtemp(prefix="jejak-cluster-")
    if as_postgres:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    pg_ctl = _postgres_program("pg_ctl")
    subprocess.run(
        [*as_postgres, _postgres_program("initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--no-sync"],
        check=True, capture_output=True,
    )  # fmt: skip
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*as_postgres, pg_ctl, "-D", data, "-o", options, "-l", f"{data}/server.log", "-w", "start"],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/jejak_routed"
        recreate_database(url)
        migrations.upgrade(url)
        yield url
    finally:
        subprocess.run([*as_postgres, pg_ctl, "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def _logs_held(url: str) -> dict[str, set[str]]:
    """Which logs have rows in each log-keyed table of a database."""
    engine = create_engine(url)
    held = {}
    try:
        with engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                column = table.c.id if table.name == "logs" else table.c.get("log_id")
                if column is not None:
                    held[table.name] = set(connection.scalars(select(column).distinct()))
    finally:
        engine.dispose()
    return held


@pytest.mark.slow
@pytest.mark.postgres
def test_a_log_routed_to_another_server_appends_verifies_and_keeps_to_itself(
    settings: Settings, second_cluster: str, capsys: pytest.CaptureFixture[str]
) -> None:
    routed = settings.model_copy(update={"log_databases": ((ROUTED, second_cluster),)})
    parser = argparse.ArgumentParser()
    simulate.add_arguments(parser)
    args = parser.parse_args(
        ["--district", f"{HOME}.01", f"{ROUTED}.01", "--villages", "2", "--tps-per-village", "1.5",
         "--election", "pilkada", "--verify-workers", "1"]
    )  # fmt: skip
    runtime = Runtime(routed)
    try:
        replay = simulate.replay_env(simulate.plan(runtime, args))
        with serve_live(settings, JEJAK_LOG_DATABASES=f"{ROUTED}={second_cluster}", **replay) as base:
            assert simulate.simulate(runtime, args, base) == 0, capsys.readouterr().out
            listed = {log["log"]: log for log in httpx.get(f"{base}/api/v1/logs").json()["logs"]}
    finally:
        runtime.close()
    out = capsys.readouterr().out
    assert "count check OK" in out and "every log verifies" in out
    assert listed[HOME]["size"] > 0 and listed[ROUTED]["size"] > 0

    home, other = _logs_held(settings.database_url), _logs_held(second_cluster)
    assert all(ROUTED not in logs for logs in home.values()), home
    assert all(logs <= {ROUTED} for logs in other.values()), other
    for table in ("logs", "log_entries", "log_checkpoints", "label_keys", "devices", "items", "events",
                  "handoffs", "alerts"):  # fmt: skip
        assert HOME in home[table] and other[table] == {ROUTED}, table

    # The routed database holds its regency's sites, and only stand-ins of the accounts
    # that own its phones: no one signs in there.
    engine = create_engine(second_cluster)
    try:
        with engine.connect() as connection:
            assert set(connection.scalars(text("SELECT DISTINCT regency FROM sites"))) == {ROUTED}
            active, stand_ins = connection.execute(
                text("SELECT count(*) FILTER (WHERE active), count(*) FROM users")
            ).one()
    finally:
        engine.dispose()
    assert active == 0 and stand_ins > 0


def test_a_code_goes_to_the_longest_prefix_that_names_it(tmp_path: Path) -> None:
    province, regency = f"sqlite:///{tmp_path}/ntt.db", f"sqlite:///{tmp_path}/ttu.db"
    routes = Settings(log_databases=f"53.={province}; 53.03={regency}").log_databases
    databases = Databases(Database(f"sqlite:///{tmp_path}/home.db"), routes)
    try:
        ntt, ttu = (dict(databases.routes)[prefix] for prefix in ("53.", "53.03"))
        assert databases.for_log("53.03") is ttu and databases.for_log("53.03.08.2001-001-BUP") is ttu
        assert databases.for_log("53.04") is ntt and databases.for_log("52.01") is databases.home
        assert databases.for_log("") is databases.home and len(databases.each()) == 3
    finally:
        databases.dispose()
    for wrong in ("53.03.08=sqlite://", "53.03", "53.=sqlite://;53.=sqlite://"):
        with pytest.raises(ValueError, match="JEJAK_LOG_DATABASES"):
            Settings(log_databases=wrong)
