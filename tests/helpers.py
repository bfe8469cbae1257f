"""Small helpers the tests share."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from models.runtime import Runtime
from models.sequencer import Appended, NewEntry
from models.settings import Settings


def scans(count: int, *, items: int = 7, start: int = 0) -> list[NewEntry]:
    """`count` scan-like records spread over `items` boxes."""
    return [
        NewEntry({"type": "scan", "n": n, "pad": "x" * 40}, item=f"53.03.08.2001-{n % items:03d}-BUP")
        for n in range(start, start + count)
    ]


def append(runtime: Runtime, log_id: str, entries: list[NewEntry]) -> list[Appended]:
    return runtime.sequencer.append(log_id, entries)


def record(data: bytes) -> dict[str, Any]:
    return json.loads(data)


def b64decode(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_live(settings: Settings, **env_vars: str) -> Iterator[str]:
    """The real service under uvicorn in its own process, with extra environment
    variables (e.g. JEJAK_WITNESSES); yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "JEJAK_ENVIRONMENT": "test",
        "JEJAK_HOST": settings.host,
        "JEJAK_KEYS_DIR": str(settings.keys_dir),
        "JEJAK_CHECKPOINT_INTERVAL": "0.2",
        "JEJAK_LOG_LEVEL": "WARNING",
        # Tests drive webhook deliveries themselves (Deliverer.deliver_due).
        "JEJAK_WEBHOOK_DELIVERY": "false",
        **env_vars,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "scripts.cli", "serve", "--port", str(port)], env=env
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)
