"""Accounts that can be stopped: disabling an account, changing its password or
deleting it ends every token it holds on that token's next request, in every process
within a second; enabling it lets it sign in again. Who may disable whom follows
unlocking: an admin anyone, a KPU its own regency's accounts, never itself."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import delete

from api.auth import tokens
from models.accounts import trail
from models.accounts import users
from models.accounts.actor import Actor, Role
from models.accounts.standing import FRESH_FOR, Standings
from models.accounts.users import User
from scripts.cli import main
from tests.factories import PASSWORD, make_person
from tests.helpers import wait_for

NEW_PASSWORD = "another long secret"


@pytest.fixture
def victim(client, runtime, world):
    """A village officer of A, signed in and at work: their token answers 200."""
    a, _, _ = world
    person = make_person(client, runtime, Role.PPS, a.pps)
    assert items(person.client, person.token) == 200
    return person


def items(client, token: str):
    return client.get("/api/v1/items", headers={"Authorization": f"Bearer {token}"}).status_code


def sign_in(client, username: str, password: str = PASSWORD):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password})


def assert_sign_in_refused(response) -> None:
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "invalid_grant", "error_description": "wrong username or password"}


def assert_refused(response, words: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert words in response.json()["detail"], response.text


def refused_within_a_second(ask: Callable[[], httpx.Response], words: str) -> None:
    """An old token, still answered from a process's memory of the account for at most
    FRESH_FOR seconds after a change made elsewhere, then refused."""

    def refused() -> httpx.Response | None:
        response = ask()
        return response if response.status_code != 200 else None

    assert_refused(wait_for(refused, "the old token refused", timeout=FRESH_FOR + 0.5), words)


def trail_of(runtime, username: str) -> list[tuple[str, uuid.UUID | None]]:
    with runtime.db.reads() as session:
        records = session.query(trail.AuditRecord).filter_by(target=username).order_by(trail.AuditRecord.at)
        return [(r.action, r.actor_id) for r in records]


def test_an_account_disabled_on_the_command_line_is_stopped_and_enabled_again(
    cli_env, client, runtime, victim, capsys
):
    assert main(["user", "disable", victim.username]) == 0
    assert f"disabled {victim.username}" in capsys.readouterr().out
    refused_within_a_second(lambda: victim.get("/api/v1/items"), "disabled")
    assert_sign_in_refused(sign_in(client, victim.username))

    assert main(["user", "enable", victim.username]) == 0
    assert f"enabled {victim.username}" in capsys.readouterr().out
    fresh = sign_in(client, victim.username)
    assert fresh.status_code == 200, fresh.text
    assert items(client, fresh.json()["access_token"]) == 200
    # Enabling does not bring back the tokens that disabling ended.
    assert_refused(victim.get("/api/v1/items"), "sign in again")
    assert trail_of(runtime, victim.username)[-2:] == [("user.disable", None), ("user.enable", None)]
    assert main(["user", "disable", "no.such.user"]) == 1
    assert "there is no user no.such.user" in capsys.readouterr().err


def test_an_account_disabled_through_the_api_is_stopped_at_once_and_enabled_again(
    client, runtime, world, victim
):
    _, _, people = world
    admin = people["admin"]
    response = admin.post(f"/api/v1/users/{victim.username}/disable")
    assert response.status_code == 200, response.text
    assert (response.json()["username"], response.json()["active"]) == (victim.username, False)
    # The process that disabled it forgets what it knew: no second of grace here.
    assert_refused(victim.get("/api/v1/items"), "disabled")
    assert_sign_in_refused(sign_in(client, victim.username))

    response = admin.post(f"/api/v1/users/{victim.username}/enable")
    assert response.status_code == 200 and response.json()["active"] is True, response.text
    fresh = sign_in(client, victim.username)
    assert fresh.status_code == 200 and items(client, fresh.json()["access_token"]) == 200
    assert_refused(victim.get("/api/v1/items"), "sign in again")
    assert trail_of(runtime, victim.username)[-2:] == [("user.disable", admin.id), ("user.enable", admin.id)]


def test_a_password_change_ends_the_old_tokens(cli_env, client, victim, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO(NEW_PASSWORD + "\n"))
    assert main(["user", "passwd", victim.username, "--password-stdin"]) == 0
    assert f"password of {victim.username} changed" in capsys.readouterr().out
    refused_within_a_second(lambda: victim.get("/api/v1/items"), "sign in again")
    assert sign_in(client, victim.username).status_code == 400
    fresh = sign_in(client, victim.username, NEW_PASSWORD)
    assert fresh.status_code == 200 and items(client, fresh.json()["access_token"]) == 200
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["user", "passwd", victim.username, "--password-stdin"]) == 1
    assert "at least 10 characters" in capsys.readouterr().err


def test_the_tokens_of_a_deleted_account_are_refused(runtime, victim):
    with runtime.db.session(write=True) as session:
        session.execute(delete(User).where(User.id == victim.id))
    refused_within_a_second(lambda: victim.get("/api/v1/items"), "no longer exists")


def test_a_signed_token_that_names_no_account_is_refused(client, app_runtime):
    token, _ = tokens.issue(app_runtime.keys, app_runtime.settings, Actor(uuid.uuid4(), Role.ADMIN, ""))
    response = client.get("/api/v1/audit", headers={"Authorization": f"Bearer {token}"})
    assert_refused(response, "no longer exists")


def test_who_may_disable_whom(client, world, victim):
    _, _, people = world
    path = f"/api/v1/users/{victim.username}/disable"
    for who, status, words in [
        ("ppk-B", 403, "outside your jurisdiction"),
        ("kpu-B", 403, "outside your jurisdiction"),
    ]:
        response = people[who].post(path)
        assert response.status_code == status and words in response.json()["detail"], (who, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert items(client, victim.token) == 200
    # A KPU may not stop the admin above it, nor anyone stop themselves.
    assert people["kpu"].post(f"/api/v1/users/{people['admin'].username}/disable").status_code == 403
    myself = people["admin"].post(f"/api/v1/users/{people['admin'].username}/disable")
    assert myself.status_code == 403 and "your own account" in myself.json()["detail"]
    assert people["admin"].post("/api/v1/users/no.such.user/disable").status_code == 404
    assert client.post(path).status_code == 401
    # The regency's own KPU may.
    assert people["kpu"].post(path).status_code == 200
    assert_refused(victim.get("/api/v1/items"), "disabled")
    assert people["kpu-B"].post(f"/api/v1/users/{victim.username}/enable").status_code == 403
    assert people["kpu"].post(f"/api/v1/users/{victim.username}/enable").status_code == 200


def test_a_change_reaches_another_server_process_within_a_second(live_server, world, victim):
    """The service in its own process (uvicorn), the account disabled through this one."""
    _, _, people = world
    signed_in = httpx.post(f"{live_server}/api/v1/auth/token", data={"username": victim.username, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}

    def ask() -> httpx.Response:
        return httpx.get(f"{live_server}/api/v1/items", headers=headers)

    assert ask().status_code == 200  # and that process now remembers the account
    assert people["admin"].post(f"/api/v1/users/{victim.username}/disable").status_code == 200
    refused_within_a_second(ask, "disabled")


def test_what_a_process_knows_of_an_account_is_at_most_a_moment_old(runtime, victim):
    """Two processes' memories: the one that changed the account and one that had read it."""
    elsewhere = Standings(runtime.db, lifetime=0.2)
    assert elsewhere.read(victim.id).active
    assert elsewhere.cached(victim.id, 0) is not None
    with runtime.db.session(write=True) as session:
        users.disable(session, None, users.get_user(session, victim.username))
    wait_for(lambda: elsewhere.cached(victim.id, 0) is None, "the account forgotten", timeout=elsewhere.lifetime + 0.5)
    assert not elsewhere.read(victim.id).active


def test_a_token_newer_than_what_a_process_remembers_makes_it_read_again(runtime, victim):
    """After a new password or an enabling, the new token is not refused on the strength
    of what a process read before."""
    remembering = Standings(runtime.db, lifetime=60)
    version = remembering.read(victim.id).token_version
    with runtime.db.session(write=True) as session:
        user = users.get_user(session, victim.username)
        users.disable(session, None, user)
        users.enable(session, None, user)
    assert remembering.cached(victim.id, version) is not None  # an old token: the memory serves
    assert remembering.cached(victim.id, version + 2) is None
    assert remembering.read(victim.id).token_version == version + 2
