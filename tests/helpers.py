"""Small helpers the tests share."""

from __future__ import annotations

import ast
import asyncio
import base64
import io
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
import pypdfium2
import pytest
import zxingcpp
from ledger.jcs import canonicalize
from ledger.merkle import leaf_hash
from PIL import Image
from pypdf import PdfReader
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
    """Node's path, for tests that run a page's JavaScript as the browser does."""
    return installed_or_skip("node", "apt-get install nodejs", "the page's JavaScript runs in the browser tests alone",
                             required_by="JEJAK_TEST_REQUIRE_BROWSER")  # fmt: skip


def installed_or_skip(program: str, install: str, why: str, *, required_by: str) -> str:
    """A program's path (the test venv's own bin first); a skip without it, saying `why`
    it matters, and a failure when the environment variable `required_by` is 1 (CI sets
    it, having installed the program)."""
    path = shutil.which(program, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if path is None:
        if os.environ.get(required_by) == "1":
            pytest.fail(f"{required_by}=1 but {program} is missing: {install}", pytrace=False)
        pytest.skip(f"{program} is not installed: {why}")
    return path


def read_qr(image: Image.Image) -> list[Any]:
    """The QR codes a camera would read in the image (zxing-cpp)."""
    return [code for code in zxingcpp.read_barcodes(image) if code.format == zxingcpp.BarcodeFormat.QRCode]


def pdf_text(response: Any) -> str:
    """An answer's PDF, its text read as read_pdf does."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return read_pdf(response.content)


def read_pdf(document: bytes) -> str:
    """An A4 PDF's text, its whitespace folded: table cells wrap their lines."""
    reader = PdfReader(io.BytesIO(document))
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.1)  # A4
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def rasterize(pdf: bytes, page: int = 0, dpi: int = 200) -> Image.Image:
    """A page of a PDF as printed at `dpi`."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        return document[page].render(scale=dpi / 72).to_pil()
    finally:
        document.close()


# The pages in a real browser (Debian's Chromium, driven by Playwright), as the field uses them.
CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 900}
RESULTS = Path(__file__).resolve().parent.parent / "test-results"  # screenshots: CI artifacts, not committed


@contextmanager
def demo_served(database_url: str, tmp: Path, prepare: Callable[[Runtime, Settings], T]) -> Iterator[tuple[str, T]]:
    """The seeded demo of Timor Tengah Utara in a database of its own, `prepare`d, then
    served: (base URL, what `prepare` gave)."""
    from scripts import seed_demo

    with fresh_database(database_url, tmp) as url:
        settings = Settings(environment="test", database_url=url, host="jejak.test", keys_dir=tmp / "keys")
        runtime = Runtime(settings)
        try:
            seed_demo.seed(runtime, out=lambda line: None)
            prepared = prepare(runtime, settings)
        finally:
            runtime.close()
        with serve_live(settings) as base:
            yield base, prepared


def playwright_or_skip() -> Any:
    """Playwright's sync API, or a skip (a failure when JEJAK_TEST_REQUIRE_BROWSER=1, as in CI)."""
    reason = None
    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is missing: apt-get install chromium"
    try:
        from playwright import sync_api
    except ImportError:
        reason = "the playwright package is missing: pip install -e '.[dev]'"
    if reason:
        if os.environ.get("JEJAK_TEST_REQUIRE_BROWSER") == "1":
            pytest.fail(f"JEJAK_TEST_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    return sync_api


@contextmanager
def launched_chromium(*args: str) -> Iterator[Any]:
    """Debian's Chromium, headless, with `args`; screenshots go to RESULTS."""
    sync_api = playwright_or_skip()
    RESULTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(args))
        yield browser
        browser.close()


# Every visible control a finger must hit: its smallest side, with what it is.
_SMALLEST_TARGET = """(selector) => {
  let smallest = null;
  for (const node of document.querySelectorAll(selector)) {
    const box = node.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(node).visibility === "hidden") continue;
    const side = Math.min(box.width, box.height);
    if (!smallest || side < smallest.side) {
      smallest = { side, width: box.width, height: box.height, what: node.outerHTML.slice(0, 120) };
    }
  }
  return smallest;
}"""

# Every visible piece of text: its contrast against the background behind it (WCAG 2).
_LOWEST_CONTRAST = """() => {
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const background = (node) => {
    for (; node; node = node.parentElement) {
      const [r, g, b, a = 1] = rgb(getComputedStyle(node).backgroundColor);
      if (a > 0.5) return [r, g, b];
    }
    return [255, 255, 255];
  };
  let lowest = null;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    const node = text.parentElement;
    if (!text.textContent.trim() || !node.getClientRects().length || node.closest("svg, noscript, script")) continue;
    if (getComputedStyle(node).visibility === "hidden") continue;
    const [a, b] = [lum(rgb(getComputedStyle(node).color)), lum(background(node))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (!lowest || ratio < lowest.ratio) lowest = { ratio, what: node.outerHTML.slice(0, 120) };
  }
  return lowest;
}"""
TAP_TARGETS = "a, button, input, select, textarea, summary, label.check, svg .pick"


def smallest_target(page: Any, selector: str = TAP_TARGETS) -> dict[str, Any]:
    """The visible control with the smallest side on the page: {side, width, height, what}."""
    found: dict[str, Any] = page.evaluate(_SMALLEST_TARGET, selector)
    return found


def lowest_contrast(page: Any) -> dict[str, Any]:
    """The visible text with the lowest contrast against its background: {ratio, what}."""
    found: dict[str, Any] = page.evaluate(_LOWEST_CONTRAST)
    return found


# Chromium's camera without a prompt, showing a file (add --use-file-for-fake-video-capture=).
CAMERA = ("--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")


def fake_camera(pngs: list[bytes], path: Path, side: int = 720, fps: int = 10) -> Path:
    """A Y4M video of the images in turn, each centred on white, `fps` frames a second:
    Chromium's fake camera (--use-file-for-fake-video-capture), which loops it."""

    from PIL import Image

    frames = []
    for png in pngs:
        image = Image.open(io.BytesIO(png)).convert("L")
        image.thumbnail((side - 40, side - 40))
        frame = Image.new("L", (side, side), 255)
        frame.paste(image, ((side - image.width) // 2, (side - image.height) // 2))
        chroma = bytes([128]) * (side // 2) * (side // 2)
        frames.append(b"FRAME\n" + frame.tobytes() + chroma * 2)
    path.write_bytes(b"YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg\n" % (side, side, fps) + b"".join(frames))
    return path


class PhonePage:
    """A browser context at phone size, collecting console errors from its pages."""

    def __init__(self, browser: Any, base: str, where: tuple[float, float] | None, shots: Path) -> None:
        self.context = browser.new_context(
            viewport=PHONE,
            permissions=["camera", "geolocation"] if where else ["camera"],
            geolocation={"latitude": where[0], "longitude": where[1], "accuracy": 15} if where else None,
        )
        self.errors: list[str] = []
        self.context.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.context.on("weberror", lambda e: self.errors.append(str(e.error)))
        self.page = self.context.new_page()
        self.base = base
        self.shots = shots

    def open(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def sign_in(self, username: str, password: str | None = None) -> None:
        from scripts.seed_demo import PASSWORD  # the demo's accounts, by default

        self.page.fill("#login input[name=username]", username)
        self.page.fill("#login input[name=password]", password or PASSWORD)
        self.page.click("#login button")

    def shot(self, name: str) -> None:
        self.page.screenshot(path=self.shots / f"{name}.png", full_page=True)

    def forgive(self, text: str) -> None:
        """Drops the console errors a test caused on purpose (Chromium logs every failed load)."""
        self.errors[:] = [error for error in self.errors if text not in error]

    def close(self) -> None:
        self.context.close()
        assert self.errors == [], f"console errors: {self.errors}"


