"""deploy/nginx.conf, the reverse proxy README recommends, run by nginx in front of the
real service: it is valid (`nginx -t`), keeps the public reads Jejak marks cacheable
and answers a crowd from its copy, and keeps nothing else."""

from __future__ import annotations

import grp
import os
import pwd
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories import Area, register
from tests.helpers import free_port, installed_or_skip, wait_for

CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf"


def _config_for(root: Path, upstream: str, port: int) -> Path:
    """nginx's own configuration around deploy/nginx.conf, everything under `root`, the
    three lines the file says to adjust adjusted."""
    site = CONFIG.read_text()
    for shipped, here in (
        ("/var/cache/nginx/jejak", str(root / "cache")),
        ("server 127.0.0.1:8000;", f"server {upstream};"),
        ("listen 80;", f"listen 127.0.0.1:{port};"),
    ):
        assert shipped in site, f"deploy/nginx.conf no longer says {shipped!r}"
        site = site.replace(shipped, here)
    (root / "jejak.conf").write_text(site)
    temp_paths = ""
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (root / kind).mkdir()
        temp_paths += f"    {kind}_temp_path {root / kind};\n"
    user = f"{pwd.getpwuid(os.getuid()).pw_name} {grp.getgrgid(os.getgid()).gr_name}"
    main = root / "nginx.conf"
    main.write_text(
        f"user {user};\nworker_processes 1;\npid {root}/nginx.pid;\nerror_log {root}/error.log;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n    access_log off;\n{temp_paths}    include {root}/jejak.conf;\n}}\n"
    )
    return main


@pytest.fixture(scope="module")
def nginx() -> str:
    return installed_or_skip("nginx", "apt-get install nginx", "deploy/nginx.conf is not checked", required_by="JEJAK_TEST_REQUIRE_BROWSER")


@pytest.fixture
def proxy(nginx: str, live_server: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    config = _config_for(tmp_path, live_server.removeprefix("http://"), port)
    process = subprocess.Popen([nginx, "-c", str(config), "-p", str(tmp_path), "-g", "daemon off;"])
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        assert process.poll() is None, (tmp_path / "error.log").read_text()
        try:
            return httpx.get(base + "/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(answers, "nginx to answer", every=0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_shipped_config_is_valid(nginx, tmp_path):
    config = _config_for(tmp_path, "127.0.0.1:8000", free_port())
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
