"""Small helpers the tests share."""

from __future__ import annotations

import ast
import asyncio
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import httpx
import orjson
import pytest
from ledger.jcs import canonicalize
from ledger.merkle import leaf_hash
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from models.core import migrations
from models.core.settings import Settings
from models.log.sequencer import Appended, NewEntry
from models.runtime import Runtime

T = TypeVar("T")


def wait_for(condition: Callable[[], T], what: str, *, timeout: float = 30, every: float = 0.05) -> T:
    """What `condition()` returns once it is true, asked every `every` seconds; the test
    fails, naming `what`, if it is still false after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        time.sleep(every)
    return found


async def wait_for_async(condition: Callable[[], T], what: str, *, timeout: float = 30) -> T:
    """As wait_for, on an event loop: the loop goes on running meanwhile."""
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        await asyncio.sleep(0.01)
    return found


def wait_until_queued(runtime: Runtime, log_id: str, count: int) -> None:
    """Until `count` requests wait in the runtime's queue for the log."""
    queue = runtime.sequencer._queues[log_id]
    wait_for(lambda: len(queue.pending) >= count, f"{count} requests queued for log {log_id}", every=0.01)


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


class LiveServer:
    """The real service under uvicorn in its own process, with extra environment
    variables (e.g. JEJAK_WITNESSES). It keeps its port, so a test can kill -9 it and
    start it again where its clients expect it."""

    def __init__(self, settings: Settings, **env_vars: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
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
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        """Start it and wait until it answers; returns its base URL."""
        self.process = server = subprocess.Popen(
            [sys.executable, "-m", "scripts.cli", "serve", "--port", str(self.port)], env=self.env
        )

        def answers() -> bool:
            assert server.poll() is None, f"the server exited with {server.returncode}"
            try:
                return httpx.get(self.base + "/healthz", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        try:
            wait_for(answers, "the server to answer", every=0.1)
        except BaseException:
            self.stop()
            raise
        return self.base

    def kill(self) -> None:
        """kill -9: the process dies where it stands, with no shutdown of any kind."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def wait_for_checkpoint(base: str, log_id: str, size: int) -> str:
    """The log's checkpoint note once the server at `base` has signed one covering
    `size` entries."""

    def covering() -> str | None:
        note = httpx.get(f"{base}/logs/{log_id}/checkpoint").text
        return note if int(note.split("\n")[1]) >= size else None

    return wait_for(covering, f"a checkpoint of {log_id} covering {size} entries", timeout=15, every=0.1)


@contextmanager
def serve_live(settings: Settings, **env_vars: str) -> Iterator[str]:
    """The real service in its own process (see LiveServer); yields its base URL."""
    server = LiveServer(settings, **env_vars)
    try:
        yield server.start()
    finally:
        server.stop()


def log_records(runtime: Runtime, log_id: str) -> list[dict[str, Any]]:
    """Every entry of a log as JSON, in order, once a checkpoint covers them all."""
    runtime.checkpointer.sign_grown_logs()
    with runtime.db.reads() as session:
        rows = session.execute(
            text("SELECT data FROM log_entries WHERE log_id = :log ORDER BY idx"), {"log": log_id}
        ).scalars()
        return [orjson.loads(data) for data in rows]


def signed_anew(runtime: Runtime, log_id: str, origin: str, records: list[dict[str, Any]], root: Path) -> Path:
    """What an operator lying in the log itself would publish: the records chained and
    the tree signed with the log's own key, every byte of it valid (a mirror at `root`)."""
    from scripts.bench_verify import write_mirror

    chains: dict[str, tuple[int, bytes]] = {}
    entries = []
    for record in records:
        item = record["item"]
        seq, last = chains.get(item, (0, None)) if item else (None, None)
        data = canonicalize(
            {**record, "seq": seq + 1 if item else None, "prev": base64.b64encode(last).decode() if last else None}
        )
        if item:
            chains[item] = (seq + 1, leaf_hash(data))
        entries.append(data)
    write_mirror(root, log_id, entries, runtime.keys.log_signer(log_id, origin))
    return root


def verify_copy(location: Path, vkey: str, capsys: Any) -> tuple[int, str]:
    """`jejak verify` on a mirror or bundle: its exit status and what it printed."""
    from scripts import verify

    status = verify.main([str(location), "--key", vkey, "--workers", "0", "--quiet"])
    return status, capsys.readouterr().out


def lies_found(
    runtime: Runtime, log_id: str, origin: str, vkey: str, records: list[dict[str, Any]], root: Path, capsys: Any
) -> list[str]:
    """The failures `jejak verify` names in the records signed anew (it must fail)."""
    from scripts import verify

    status, out = verify_copy(signed_anew(runtime, log_id, origin, records, root), vkey, capsys)
    assert status == verify.EXIT_FAILED, out
    return [line.strip() for line in out.splitlines() if line.startswith("  ")]


@contextmanager
def fresh_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A new, migrated, empty database of the suite's kind, gone afterwards: for tests
    that count rows of shared tables, need real codes such as 53.03, or restore into an
    empty database. PostgreSQL: a schema of its own in the suite's database, chosen by
    search_path."""
    if not database_url.startswith("postgresql"):
        url = f"sqlite:///{tmp_path / f'fresh-{uuid.uuid4().hex[:8]}.db'}"
        migrations.upgrade(url)
        yield url
        return
    schema = f"fresh_{uuid.uuid4().hex[:12]}"
    admin = create_engine(database_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        migrations.upgrade(url.render_as_string(hide_password=False))
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def module_name(root: Path, source: Path) -> str:
    """The dotted name a file under `root` is imported by (a package by its folder's)."""
    parts = source.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


class Imported(NamedTuple):
    module: str  # `a.b` of `import a.b` and of `from a.b import c`
    name: str | None  # `c` of `from a.b import c`
    line: int

    @property
    def names(self) -> tuple[str, ...]:
        """What it may bring in: `a.b`, and `a.b.c` too, for c may be a module."""
        return (self.module,) if self.name is None else (self.module, f"{self.module}.{self.name}")


def imports(root: Path, source: Path) -> Iterator[Imported]:
    """Every import statement of a Python file under `root`, anywhere in it (inside
    functions and under TYPE_CHECKING too), relative ones resolved."""
    name = module_name(root, source)
    package = name if source.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"), str(source))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Imported(alias.name, None, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module) if part)
            for alias in node.names:
                yield Imported(module, alias.name, node.lineno)


def node_or_skip() -> str:
    """Node's path, for tests that run a page's JavaScript as the browser does; a skip
    without it, and a failure under CI (JEJAK_TEST_REQUIRE_BROWSER=1), which installs it."""
    node = shutil.which("node")
    if node is None:
        if os.environ.get("JEJAK_TEST_REQUIRE_BROWSER") == "1":
            pytest.fail("JEJAK_TEST_REQUIRE_BROWSER=1 but node is missing: apt-get install nodejs", pytrace=False)
        pytest.skip("node is not installed: the page's JavaScript runs in the browser tests alone")
    return node


def tool_or_skip(name: str, why: str) -> str:
    """The path of a command-line tool the dev extras install (the shared venv's bin
    first); a skip without it, and a failure under CI (JEJAK_TEST_REQUIRE_TOOLS=1)."""
    found = shutil.which(name, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if found is None:
        if os.environ.get("JEJAK_TEST_REQUIRE_TOOLS") == "1":
            pytest.fail(f"JEJAK_TEST_REQUIRE_TOOLS=1 but {name} is missing: pip install -e '.[dev]'", pytrace=False)
        pytest.skip(f"{name} is not installed: {why}")
    return found
