"""Every problem carries a stable `code`: the pages translate it into the officer's
language and a client branches on it, while the English `detail` may be reworded."""

from __future__ import annotations

import pytest

from tests.factories import World


@pytest.fixture
def pps_of_a(world: World):
    return world.people["pps"]


def code(response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()["code"]


def test_a_box_that_does_not_exist_is_item_not_found(world: World, pps_of_a) -> None:
    never_registered = f"{world.a.tps[0]}-DPD"
    assert code(pps_of_a.get(f"/api/v1/items/{never_registered}"), 404) == "item_not_found"


def test_an_area_outside_ones_own_is_outside_jurisdiction(world: World) -> None:
    ppk = world.people["ppk"]
    asked = ppk.get("/api/v1/stats/progress", params={"site": world.b.ppk})
    assert code(asked, 403) == "outside_jurisdiction"


def test_a_role_that_may_not_act_is_role_not_allowed(world: World) -> None:
    assert code(world.people["auditor"].post("/api/v1/items", json={"items": []}), 403) == "role_not_allowed"


def test_no_token_is_not_signed_in_with_a_bearer_challenge(client) -> None:
    response = client.get("/api/v1/items")
    assert code(response, 401) == "not_signed_in"
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_forged_token_is_invalid_token(client) -> None:
    response = client.get("/api/v1/items", headers={"Authorization": "Bearer not.a.token"})
    assert code(response, 401) == "invalid_token"


def test_a_malformed_parameter_is_invalid_request(pps_of_a) -> None:
    assert code(pps_of_a.get("/api/v1/items", params={"limit": "many"}), 422) == "invalid_request"


def test_an_unknown_path_is_not_found(client) -> None:
    assert code(client.get("/api/v1/no-such-thing"), 404) == "not_found"


def test_the_openapi_problem_schema_requires_the_code(client) -> None:
    problem = client.get("/openapi.json").json()["components"]["schemas"]["Problem"]
    assert "code" in problem["required"]
