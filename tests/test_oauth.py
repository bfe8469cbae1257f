"""The token endpoint as RFC 6749 and RFC 6750 define it: its error bodies, scopes a
token may not widen, and the client_credentials grant of service accounts."""

from __future__ import annotations

import base64
import io
import uuid

from sqlalchemy import select

from models.accounts.users import User
from scripts.cli import main

PASSWORD = "a long enough secret"
TOKEN = "/api/v1/auth/token"


def service_account(monkeypatch, capsys, jurisdiction: str, scopes: str) -> tuple[str, str]:
    """An integrator made on the command line, and the client secret `jejak user secret` shows."""
    name = f"svc.{uuid.uuid4().hex[:10]}"
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD))
    args = ["--username", name, "--role", "integrator", "--jurisdiction", jurisdiction, "--scopes", scopes]
    assert main(["user", "add", *args, "--password-stdin"]) == 0
    capsys.readouterr()
    assert main(["user", "secret", name]) == 0
    out = dict(line.split("=", 1) for line in capsys.readouterr().out.split())
    assert out["client_id"] == name and out["client_secret"].startswith("jcs_")
    return name, out["client_secret"]


def oauth_error(response, status: int, error: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"error", "error_description"} and body["error"] == error, body
    return body["error_description"]


def test_a_wrong_password_is_invalid_grant(client, world) -> None:
    form = {"grant_type": "password", "username": world.people["kpu"].username, "password": "not it at all"}
    assert oauth_error(client.post(TOKEN, data=form), 400, "invalid_grant") == "wrong username or password"


def test_an_unknown_grant_and_a_missing_one_are_refused(client) -> None:
    oauth_error(
        client.post(TOKEN, data={"grant_type": "authorization_code", "code": "x"}), 400, "unsupported_grant_type"
    )
    oauth_error(client.post(TOKEN, data={"grant_type": "password"}), 400, "invalid_request")
    oauth_error(client.post(TOKEN, data={}), 400, "invalid_request")


def test_a_scope_the_account_lacks_is_invalid_scope(client, area, cli_env, monkeypatch, capsys) -> None:
    name, secret = service_account(monkeypatch, capsys, area.kpu, "items:read")
    form = {"grant_type": "password", "username": name, "password": PASSWORD, "scope": "items:read alerts:read"}
    words = oauth_error(client.post(TOKEN, data=form), 400, "invalid_scope")
    assert "alerts:read" in words and "items:read" in words
    narrower = client.post(TOKEN, data={**form, "scope": "items:read"})
    assert narrower.status_code == 200 and narrower.json()["scope"] == "items:read"


def test_a_service_account_signs_in_with_client_credentials(
    client, runtime, area, cli_env, monkeypatch, capsys
) -> None:
    name, secret = service_account(monkeypatch, capsys, area.kpu, "items:read events:read")
    form = {"grant_type": "client_credentials", "client_id": name, "client_secret": secret, "scope": "items:read"}
    token = client.post(TOKEN, data=form)
    assert token.status_code == 200, token.text
    assert token.headers["cache-control"] == "no-store"
    assert (token.json()["role"], token.json()["scope"]) == ("integrator", "items:read")
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert client.get("/api/v1/items", headers=bearer).status_code == 200
    assert client.get("/api/v1/events", headers=bearer).status_code == 403  # the scope it did not ask for

    # HTTP Basic (RFC 6749 §2.3.1) works as well; a wrong secret is invalid_client, challenged.
    basic = base64.b64encode(f"{name}:{secret}".encode()).decode()
    by_basic = client.post(
        TOKEN, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert by_basic.status_code == 200 and by_basic.json()["scope"] == "events:read items:read"
    wrong = base64.b64encode(f"{name}:{secret}x".encode()).decode()
    refused = client.post(TOKEN, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {wrong}"})
    oauth_error(refused, 401, "invalid_client")
    assert refused.headers["www-authenticate"] == "Basic"
    oauth_error(client.post(TOKEN, data={**form, "client_secret": "jcs_guess"}), 401, "invalid_client")

    # The secret is kept as its hash, never as given; a new one ends the old one and its tokens.
    with runtime.db.reads() as session:
        stored = session.scalar(select(User.client_secret_hash).where(User.username == name))
    assert stored and secret not in stored and len(stored) == 64
    assert main(["user", "secret", name]) == 0
    capsys.readouterr()
    oauth_error(client.post(TOKEN, data=form), 401, "invalid_client")


def test_a_401_challenges_with_bearer(client) -> None:
    response = client.get("/api/v1/items")
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
