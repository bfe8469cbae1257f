"""Settings come from the environment; production refuses unsafe defaults."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.app import create_app
from models.core.settings import Settings
from models.log.keys import MissingKey


def test_database_url_from_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db/jejak")
    assert Settings().database_url == "postgresql+psycopg://u@db/jejak"
    monkeypatch.delenv("DATABASE_URL")
    assert Settings().database_url == "sqlite:///./data/jejak.db"


def test_prefixed_environment(monkeypatch):
    monkeypatch.setenv("JEJAK_HOST", "jejak.kpu.go.id")
    monkeypatch.setenv("JEJAK_CHECKPOINT_INTERVAL", "0.25")
    settings = Settings()
    assert (settings.host, settings.checkpoint_interval) == ("jejak.kpu.go.id", 0.25)


def test_checkpoints_at_least_once_a_second():
    with pytest.raises(ValidationError, match="less than or equal to 1"):
        Settings(checkpoint_interval=5)


def test_production_refuses_the_default_host():
    with pytest.raises(ValidationError, match="JEJAK_HOST must be set in production"):
        Settings(environment="production")


def test_production_labels_point_to_https():
    with pytest.raises(ValidationError, match="JEJAK_PUBLIC_URL must be an https:// URL"):
        Settings(environment="production", host="jejak.kpu.go.id")


def test_production_refuses_to_start_without_a_log_key(settings, new_log, tmp_path):
    production = settings.model_copy(
        update={
            "environment": "production",
            "keys_dir": tmp_path,
            "host": "jejak.test",
            "public_url": "https://jejak.test",
        }
    )
    with pytest.raises(MissingKey, match=r"no key at .*log-\d\d\.\d\d\.skey"):
        with TestClient(create_app(production, start_background=False)):
            pass
    assert not any(tmp_path.iterdir()), "production must never generate a key itself"


def test_production_refuses_to_start_without_the_token_key(settings, tmp_path):
    production = settings.model_copy(
        update={
            "environment": "production",
            "keys_dir": tmp_path,
            "host": "jejak.test",
            "public_url": "https://jejak.test",
        }
    )
    # Every log's key in place, the token key not.
    for key in settings.keys_dir.glob("log-*.skey"):
        (tmp_path / key.name).write_text(key.read_text())
    with pytest.raises(MissingKey, match="token.pem"):
        with TestClient(create_app(production, start_background=False)):
            pass
