"""deploy/nginx.conf, the reverse proxy README recommends, run by nginx in front of the
real service: it is valid (`nginx -t`), keeps the public reads Jejak marks cacheable
and answers a crowd from its copy, and keeps nothing else."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from scripts.proxy import config_for, nginx_in_front
from tests.factories import Area, register
from tests.helpers import free_port, installed_or_skip, wait_for


@pytest.fixture(scope="module")
def nginx() -> str:
    return installed_or_skip("nginx", "apt-get install nginx", "deploy/nginx.conf is not checked", required_by="JEJAK_TEST_REQUIRE_BROWSER")


@pytest.fixture
def proxy(nginx: str, live_server: str, tmp_path: Path) -> Iterator[str]:
    with nginx_in_front(nginx, live_server.removeprefix("http://"), tmp_path) as base:
        yield base


def test_the_shipped_config_is_valid(nginx, tmp_path):
    config = config_for(tmp_path, "127.0.0.1:8000", free_port())
    checked = subprocess.run([nginx, "-t", "-c", str(config), "-p", str(tmp_path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr


def test_the_proxy_answers_a_crowd_from_its_copy_and_keeps_nothing_private(proxy, live_server, crew, area: Area):
    register(crew, (area.tps[0], "BUP"))
    box = area.item()

    def proven() -> bool:  # the live server's checkpointer has signed the box's entries
        trail = httpx.get(f"{live_server}/api/v1/items/{box}/history").json()["trail"]
        return all(entry["inclusion_proof"] for entry in trail)

    wait_for(proven, "a checkpoint covering the box", every=0.1)
    with httpx.Client(base_url=proxy) as crowd:
        for path in (f"/api/v1/items/{box}/history", f"/v/{box}"):
            first = crowd.get(path)
            assert first.status_code == 200 and first.headers["x-cache-status"] in {"MISS", "EXPIRED"}
            again = crowd.get(path)
            assert again.headers["x-cache-status"] == "HIT" and again.content == first.content
            assert again.headers["etag"] == first.headers["etag"]
            # The proxy answers a client holding the copy itself.
            held = crowd.get(path, headers={"If-None-Match": first.headers["etag"]})
            assert held.status_code == 304, path
            direct = httpx.get(live_server + path)
            assert direct.content == first.content  # the proxy changes no answer
        # Another language is another copy; a page that sets the cookie is nobody's but its own.
        with httpx.Client(base_url=proxy, cookies={"jejak_lang": "en"}) as visitor:
            english = visitor.get(f"/v/{box}")
        assert english.headers["x-cache-status"] in {"MISS", "EXPIRED"} and '<html lang="en">' in english.text
        chosen = crowd.get(f"/v/{box}", params={"lang": "en"})
        assert chosen.headers["x-cache-status"] in {"MISS", "EXPIRED"}
        assert crowd.get(f"/v/{box}", params={"lang": "en"}).headers["x-cache-status"] != "HIT"
        # The checkpoint: a second's copy.
        checkpoint = f"/logs/{area.kpu}/checkpoint"
        crowd.get(checkpoint)
        assert crowd.get(checkpoint).headers["x-cache-status"] in {"HIT", "UPDATING"}
        # Signed-in reads go straight through.
        listed = crowd.get("/api/v1/items", headers={"Authorization": f"Bearer {crew['kpu'].person.token}"})
        assert listed.status_code == 200 and "x-cache-status" not in listed.headers
