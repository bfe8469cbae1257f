"""deploy/nginx.conf run by nginx in front of a running service, as a child process with
everything under one directory: tests/test_deploy.py checks the file this way, and
`jejak bench reads` measures a crowd through it."""

from __future__ import annotations

import grp
import os
import pwd
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.bench_ingest import free_port, wait_ready

CONFIG = Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf"
# As deploy/nginx.conf advises for nginx on Jejak's machine (only root may raise it).
PRIORITY = "worker_priority -10;\n"


def config_for(root: Path, upstream: str, port: int, worker_connections: int = 64) -> Path:
    """nginx's own configuration around deploy/nginx.conf, everything under `root`, the
    three lines the file says to adjust adjusted, a worker a core as Debian's nginx.conf
    has it, at the priority the file advises. Every client holds a connection and every
    request passed on another to `upstream`: `worker_connections` (a worker's) counts both."""
    site = CONFIG.read_text()
    for shipped, here in (
        ("/var/cache/nginx/jejak", str(root / "cache")),
        ("server 127.0.0.1:8000;", f"server {upstream};"),
        ("listen 80;", f"listen 127.0.0.1:{port};"),
    ):
        if shipped not in site:
            raise ValueError(f"deploy/nginx.conf no longer says {shipped!r}")
        site = site.replace(shipped, here)
    (root / "jejak.conf").write_text(site)
    temp_paths = ""
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (root / kind).mkdir()
        temp_paths += f"    {kind}_temp_path {root / kind};\n"
    user = f"{pwd.getpwuid(os.getuid()).pw_name} {grp.getgrgid(os.getgid()).gr_name}"
    main = root / "nginx.conf"
    main.write_text(
        f"user {user};\nworker_processes auto;\n{PRIORITY if os.geteuid() == 0 else ''}"
        f"pid {root}/nginx.pid;\nerror_log {root}/error.log;\n"
        f"events {{ worker_connections {worker_connections}; }}\n"
        f"http {{\n    access_log off;\n{temp_paths}    include {root}/jejak.conf;\n}}\n"
    )
    return main


@contextmanager
def nginx_in_front(nginx: str, upstream: str, root: Path, worker_connections: int = 64) -> Iterator[str]:
    """The `nginx` program running deploy/nginx.conf in front of `upstream` (host:port),
    its configuration, cache and logs under `root` (an existing, empty directory), until
    the block ends, however it ends: its base URL, once it answers."""
    port = free_port()
    config = config_for(root, upstream, port, worker_connections)
    process = subprocess.Popen([nginx, "-c", str(config), "-p", str(root), "-g", "daemon off;"])
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_ready(base, process)
        except RuntimeError as failed:
            log = root / "error.log"
            raise RuntimeError(f"nginx: {failed}: {log.read_text() if log.exists() else 'no error.log'}") from failed
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
