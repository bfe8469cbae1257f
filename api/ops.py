"""Operations endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from models.core import migrations
from models.core.errors import JejakError
from models.core.routing import Databases
from models.core.settings import Settings
from models.log.keys import load_signing_keys
from models.log.reads import log_status
from models.log.witnesses import cosigned_sizes
from models.webhooks.subscriptions import delivery_positions
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from pydantic import BaseModel
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from api.deps import DatabasesDep, KeysDep, SettingsDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    checks: dict[str, str]


@router.get(
    "/readyz",
    responses={
        200: {"model": Readiness},
        503: {"model": Readiness, "description": "Not ready, with the reasons"},
    },
)
def readyz(databases: DatabasesDep, keys: KeysDep, settings: SettingsDep) -> JSONResponse:
    """Ready to serve: database reachable, migrations at head, signing keys loaded,
    room on the disks it writes to."""
    checks: dict[str, str] = {}
    try:
        databases.home.ping()
        checks["database"] = "ok"
        current, head = migrations.current_revision(databases.home.engine), migrations.head_revision()
        checks["migrations"] = (
            "ok" if current == head else f"at {current}, head is {head}: run `jejak migrate`"
        )
        count = load_signing_keys(keys, databases)
        checks["signing_keys"] = f"ok ({count} logs)"
    except SQLAlchemyError as error:
        checks.setdefault("database", f"unreachable: {type(error).__name__}")
    except JejakError as error:
        checks["signing_keys"] = error.detail
    checks["disk"] = _free_disk(settings, databases)
    ready = all(v.startswith("ok") for v in checks.values()) and len(checks) == 4
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


def _free_disk(settings: Settings, databases: Databases) -> str:
    """Free space where the service writes: each SQLite file's directory and the keys
    directory (PostgreSQL's disk is its server's to watch)."""
    minimum = settings.min_free_disk_mb
    places = [settings.keys_dir]
    for database in databases.each():
        url = make_url(database.url)
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            places.append(Path(url.database).parent)
    short = []
    for place in places:
        try:
            free = shutil.disk_usage(place).free // (1024 * 1024)
        except OSError as error:
            short.append(f"{place} unreadable ({error.strerror})")
            continue
        if free < minimum:
            short.append(f"{place} has {free} MB free")
    if short:
        return f"full: {'; '.join(short)}, below JEJAK_MIN_FREE_DISK_MB={minimum}: writes will be refused"
    return "ok"


@router.get("/metrics", response_class=Response)
def metrics() -> Response:
    """Prometheus text exposition."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


class LogCollector(Collector):
    """Per-log gauges read from the database at scrape time, so every process agrees."""

    def __init__(self, databases: Databases) -> None:
        self.databases = databases

    def collect(self) -> Iterator[GaugeMetricFamily]:
        entries = GaugeMetricFamily("jejak_log_entries", "Entries integrated", labels=["log"])
        unsigned = GaugeMetricFamily(
            "jejak_log_unsigned_entries",
            "Entries integrated but not yet covered by a signed checkpoint",
            labels=["log"],
        )
        age = GaugeMetricFamily(
            "jejak_log_checkpoint_age_seconds", "Age of the latest checkpoint", labels=["log"]
        )
        webhook_lag = GaugeMetricFamily(
            "jejak_webhook_lag_entries",
            "Entries of the log the furthest-behind webhook subscription has not been delivered yet",
            labels=["log"],
        )
        failing = GaugeMetricFamily(
            "jejak_webhook_failing_subscriptions", "Subscriptions retried only every JEJAK_WEBHOOK_FAILING_INTERVAL"
        )
        witness_lag = GaugeMetricFamily(
            "jejak_witness_lag_entries",
            "Entries of the log's latest checkpoint beyond the last one this witness cosigned",
            labels=["log", "witness"],
        )
        statuses, cosigned = [], []
        try:
            for database in self.databases.each():
                with database.reads() as session:
                    statuses += log_status(session)
                    cosigned += cosigned_sizes(session)
            with self.databases.home.reads() as session:
                positions = delivery_positions(session)
        except SQLAlchemyError:
            return  # /metrics must answer even while the database is down
        sizes = {status.log_id: status for status in statuses}
        for status in statuses:
            entries.add_metric([status.log_id], status.size)
            unsigned.add_metric([status.log_id], status.size - status.checkpoint_size)
            age.add_metric([status.log_id], status.checkpoint_age_seconds)
        behind: dict[str, int] = {}
        for log_id, next_index, _ in positions:
            if log_id in sizes:
                behind[log_id] = max(behind.get(log_id, 0), sizes[log_id].size - next_index)
        for log_id, lag in sorted(behind.items()):
            webhook_lag.add_metric([log_id], max(lag, 0))
        failing.add_metric([], sum(1 for *_, is_failing in positions if is_failing))
        for log_id, witness, size in cosigned:
            if log_id in sizes:
                witness_lag.add_metric([log_id, witness], max(sizes[log_id].checkpoint_size - size, 0))
        yield from (entries, unsigned, age, webhook_lag, failing, witness_lag)
