"""Operations: liveness, readiness, metrics, request ids and JSON logs."""

from __future__ import annotations

import gc
import json
import logging

from api import app as app_module
from api.observability import JsonFormatter
from tests.helpers import append, scans


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_checks_database_migrations_and_keys(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    checks = response.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["migrations"] == "ok"
    assert checks["signing_keys"].startswith("ok")


def test_readyz_reports_a_missing_signing_key(client, app_runtime, new_log):
    key = app_runtime.keys.log_key_path(new_log.id)
    hidden = key.with_suffix(".hidden")
    key.rename(hidden)
    app_runtime.keys._signers.pop(new_log.id, None)
    app_runtime.keys.create_missing = False
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert f"jejak keys create --log {new_log.id}" in response.json()["checks"]["signing_keys"]
    finally:
        app_runtime.keys.create_missing = True
        hidden.rename(key)


def test_metrics_per_route_and_per_log(client, runtime, new_log):
    append(runtime, new_log.id, scans(3))
    client.get(f"/api/v1/logs/{new_log.id}/checkpoint")
    text = client.get("/metrics").text
    assert (
        'jejak_http_requests_total{method="GET",route="/api/v1/logs/{log_id}/checkpoint",'
        'status="200"}' in text
    )
    assert "jejak_http_request_duration_seconds_bucket" in text
    assert f'jejak_log_entries{{log="{new_log.id}"}} 3.0' in text
    assert f'jejak_log_unsigned_entries{{log="{new_log.id}"}} 3.0' in text  # no checkpoint yet
    assert f'jejak_log_checkpoint_age_seconds{{log="{new_log.id}"}}' in text
    assert "jejak_log_integration_seconds_count" in text


def test_request_id_is_echoed_or_made(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id\x01"}).headers["x-request-id"]
    assert len(made) == 32 and made.isalnum()


def test_access_log_is_json_with_request_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="jejak.access"):
        client.get("/healthz", headers={"X-Request-ID": "trace-7"})
    record = next(r for r in caplog.records if r.name == "jejak.access")
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "GET /healthz 200"
    assert line["status"] == 200 and line["path"] == "/healthz"
    assert "duration_ms" in line


def test_the_server_freezes_what_it_loaded_before_serving(cli_env, monkeypatch):
    """Every full collection walked each module, route and schema the server had loaded
    (about 190,000 objects: a pause of 55 ms or more for every request in flight, the
    single scans' p99): the server's entry point freezes them, so that collections walk
    only what came after."""
    monkeypatch.setattr(app_module, "configure_logging", lambda level: None)  # the suite's logging stays
    assert gc.get_freeze_count() == 0
    try:
        app = app_module.app_from_env()
        assert gc.get_freeze_count() > 0
        app.state.runtime.close()
    finally:
        gc.unfreeze()
