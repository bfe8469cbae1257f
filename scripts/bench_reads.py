"""`jejak bench reads`: the public reads under a crowd, beside the strong baseline.

A regency's log with `--read-boxes` boxes, each registered, labelled and sealed (a trail of
three entries), all in a signed checkpoint. The service and the strong baseline
(scripts/bench_baseline_app.py: an async route on a psycopg pool, one indexed SELECT of
a box's entries answered as JSON) run under uvicorn side by side on PostgreSQL. In
each round a separate load process, `--readers` connections (64: a crowd), asks for
random boxes': the service's history (`GET /api/v1/items/{id}/history`, proofs and
all), the baseline's entries, and the service's check page (`GET /v/{id}`), the first
two in turn (each first in every other round). While the history load runs, two more
clients read the checkpoint and full tiles over and over: their p99 is the figure for
mirrors and verifiers on a busy day. Last, the hoax: every client asks for one box's
history again and again holding its ETag (as a phone's cache or a proxy revalidates).

Then, if nginx is installed, the same round through it: a fresh nginx (its cache empty,
everything under the run's temporary directory, stopped when the phase ends) runs
deploy/nginx.conf in front of the service, as scripts/proxy.py builds it for
tests/test_deploy.py, and the same load asks it for the same random boxes' histories
(a box's first ask passed on to the service, a repeat within the copy's 10 s answered by
nginx: with as many requests as boxes, over a third are repeats), the checkpoint and
full tiles read beside them, then their check pages, then one box's check page from
every client without validators: a crowd of phones first opening a shared link, which
nginx answers from its copy. Without nginx the run says so and goes without.

The limits on public reads are raised for the run (the load comes from one address
and would otherwise measure them, not the reads)."""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median

import httpx
from sqlalchemy import text

from ledger.tiles import tile_path
from models.core.settings import Settings
from models.runtime import Runtime
from scripts.bench_ingest import (
    EVENTS,
    PASSWORD,
    REGENCY,
    Call,
    Load,
    Phase,
    _scans,
    _setup,
    lanes_of,
    run_load,
    service_and_baseline,
    spread,
)
from scripts.bench_ledger import DEFAULT_POSTGRES, bench_database, percentile
from scripts.proxy import nginx_in_front

PROXIED = "through nginx (deploy/nginx.conf)"
# The crowd's clients, the side readers' and every request nginx passes on to the
# service each hold one of its connections.
NGINX_CONNECTIONS = 1024


@dataclass
class Proxied:
    """A round's histories and check pages through nginx."""

    history: Phase
    side: list[float]  # checkpoint and tile latencies while the history load ran
    page: Phase
    hoax: Phase


@dataclass
class Round:
    history: Phase
    page: Phase
    baseline: Phase
    side: list[float]  # checkpoint and tile latencies while the history load ran
    hoax: Phase
    proxied: Proxied | None  # None: nginx is not installed

    def line(self, number: int) -> str:
        line = (
            f"round {number}: history {self.history.scans_per_s:,.0f}/s p99 {self.history.p99:.0f} ms, "
            f"check page {self.page.scans_per_s:,.0f}/s p99 {self.page.p99:.0f} ms, bare indexed read "
            f"{self.baseline.scans_per_s:,.0f}/s p99 {self.baseline.p99:.0f} ms: "
            f"{self.history.scans_per_s / self.baseline.scans_per_s:.2f} and "
            f"{self.page.scans_per_s / self.baseline.scans_per_s:.2f}; checkpoint and tiles during the history "
            f"load p99 {percentile(self.side, 0.99):.1f} ms ({len(self.side):,} reads); one box revalidated "
            f"{self.hoax.scans_per_s:,.0f}/s p99 {self.hoax.p99:.0f} ms"
        )
        if (proxied := self.proxied) is None:
            return line
        return (
            f"{line}; {PROXIED}: history {proxied.history.scans_per_s:,.0f}/s p99 {proxied.history.p99:.0f} ms "
            f"({proxied.history.scans_per_s / self.baseline.scans_per_s:.2f}), checkpoint and tiles meanwhile p99 "
            f"{percentile(proxied.side, 0.99):.1f} ms; check page {proxied.page.scans_per_s:,.0f}/s p99 "
            f"{proxied.page.p99:.0f} ms ({proxied.page.scans_per_s / self.baseline.scans_per_s:.2f}); one box's page "
            f"{proxied.hoax.scans_per_s:,.0f}/s p99 {proxied.hoax.p99:.0f} ms"
        )


def _phase(name: str, load: Load) -> Phase:
    count = len(load.latencies_ms)
    return Phase(name, count, count, load.seconds, load.latencies_ms)


def _gets(paths: list[str], clients: int) -> list[list[Call]]:
    return [[(path, None) for path in paths[n::clients]] for n in range(clients)]


def _through_nginx(nginx: str, base: str, root: Path, picked: list[str], box: str, clients: int,
                   side: list[list[Call]]) -> Proxied:  # fmt: skip
    """The round's histories and check pages (`picked`, then `box`'s page for every
    request) asked of a fresh nginx in front of the service at `base`, the `side` lanes
    read while the histories load."""
    root.mkdir()
    with nginx_in_front(nginx, base.removeprefix("http://"), root, NGINX_CONNECTIONS) as proxy:
        history = run_load(proxy, None, _gets([f"/api/v1/items/{i}/history" for i in picked], clients), side=side)
        page = run_load(proxy, None, _gets([f"/v/{i}" for i in picked], clients))
        hoax = run_load(proxy, None, _gets([f"/v/{box}"] * len(picked), clients))
    return Proxied(_phase("history", history), history.side_ms, _phase("page", page), _phase("hoax", hoax))


def _wait_for_checkpoint(base: str, size: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if int(httpx.get(f"{base}/logs/{REGENCY}/checkpoint").text.split("\n")[1]) >= size:
            return
        time.sleep(0.5)
    raise RuntimeError(f"no checkpoint covering {size} entries within 120 s")


def main(args: argparse.Namespace) -> int:
    url = (args.database or [os.environ.get("JEJAK_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)])[0]
    boxes, clients, rounds, requests = args.read_boxes, args.readers, args.rounds, args.requests
    chooser = random.Random(28)
    nginx = shutil.which("nginx")
    with tempfile.TemporaryDirectory(prefix="jejak-bench-") as tmp, bench_database(url, Path(tmp)) as bench_url:
        settings = Settings(environment="test", database_url=bench_url, keys_dir=Path(tmp) / "keys", host="bench.jejak")
        runtime = Runtime(settings)
        print(f"setting up: {boxes:,} boxes, an officer, a phone", flush=True)
        item_ids, phones = _setup(runtime, boxes, devices=1)
        seals = _scans(item_ids, phones, [0] * boxes)
        results: list[Round] = []
        with service_and_baseline(
            settings, bench_url, args.workers,
            JEJAK_PUBLIC_CHECKS_PER_MINUTE="100000000", JEJAK_PUBLIC_CHECKS_PER_SECOND="1000000",
        ) as (_, base, bare_base):
            token = httpx.post(base + "/api/v1/auth/token", data={"grant_type": "password", "username": "bench.kpu", "password": PASSWORD}).json()["access_token"]
            print(f"sealing every box ({boxes:,} scans in batches of 500)", flush=True)
            bodies = [(phones[0][0], json.dumps({"scans": seals[n : n + 500]}).encode()) for n in range(0, boxes, 500)]
            run_load(base, token, lanes_of(bodies, EVENTS))
            size = {log["log"]: log["size"] for log in httpx.get(base + "/api/v1/logs").json()["logs"]}[REGENCY]
            _wait_for_checkpoint(base, size)
            with runtime.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE"))
            side = [[(f"/logs/{REGENCY}/checkpoint", None)],
                    [(f"/logs/{REGENCY}/{tile_path(0, n)}", None) for n in range(size // 256)]]  # fmt: skip
            example = httpx.get(f"{base}/api/v1/items/{item_ids[0]}/history")
            bare_example = httpx.get(f"{bare_base}/entries/{REGENCY}/{item_ids[0]}")
            print(f"a history is {len(example.content):,} bytes, the bare read's answer {len(bare_example.content):,}")
            hoax_box = f"/api/v1/items/{item_ids[0]}/history"
            for number in range(1, rounds + 1):
                print(f"round {number} of {rounds}: {requests:,} requests from {clients} clients to each", flush=True)
                picked = [chooser.choice(item_ids) for _ in range(requests)]
                loads: dict[str, Load] = {}
                order = [
                    ("history", base, [f"/api/v1/items/{i}/history" for i in picked], side),
                    ("baseline", bare_base, [f"/entries/{REGENCY}/{i}" for i in picked], []),
                ]
                for name, at, paths, also in order if number % 2 else order[::-1]:
                    loads[name] = run_load(at, None, _gets(paths, clients), side=also)
                loads["page"] = run_load(base, None, _gets([f"/v/{i}" for i in picked], clients))
                loads["hoax"] = run_load(
                    base, None, _gets([hoax_box] * requests, clients), headers={"If-None-Match": example.headers["etag"]}
                )
                proxied = (
                    _through_nginx(nginx, base, Path(tmp) / f"nginx-{number}", picked, item_ids[0], clients, side)
                    if nginx else None
                )  # fmt: skip
                results.append(
                    Round(*(_phase(name, loads[name]) for name in ("history", "page", "baseline")),
                          loads["history"].side_ms, _phase("hoax", loads["hoax"]), proxied)  # fmt: skip
                )
                print(results[-1].line(number), flush=True)
        runtime.close()

    print()
    print(f"## Public reads on PostgreSQL, uvicorn with {args.workers} workers, {clients} clients, "
          f"load from a separate process, {rounds} rounds: median (range)\n")  # fmt: skip
    print("| read | requests/s | p50 ms | p99 ms | against the bare indexed read | target |")
    print("|---|---|---|---|---|---|")
    rows = [
        (name, [getattr(r, name) for r in results], target)
        for name, target in (("history", "≥ 0.5, p99 ≤ 100 ms"), ("page", "≥ 0.5, p99 ≤ 100 ms"),
                             ("baseline", "baseline"), ("hoax", "one box, every client holding it: 304s"))
    ]  # fmt: skip
    proxied_rounds = [r.proxied for r in results if r.proxied]
    if proxied_rounds:
        rows += [
            (f"history {PROXIED}", [p.history for p in proxied_rounds], "the same random boxes: repeats within 10 s from the copy"),
            (f"page {PROXIED}", [p.page for p in proxied_rounds], "the same random boxes: repeats within 10 s from the copy"),
            (f"hoax {PROXIED}", [p.hoax for p in proxied_rounds], "one box's page, no validators: nginx's copy"),
        ]
    for name, phases, target in rows:
        ratios = [p.scans_per_s / r.baseline.scans_per_s for p, r in zip(phases, results, strict=True)]
        print(
            f"| {name} | {spread([p.scans_per_s for p in phases], 0)} | {median([p.p50 for p in phases]):.1f} | "
            f"{spread([p.p99 for p in phases], 0)} | {spread(ratios)} | {target} |"
        )
    print()
    for what, sides in (("while the history load ran", [r.side for r in results]),
                        (f"{PROXIED} while its history load ran", [p.side for p in proxied_rounds])):  # fmt: skip
        if sides:
            print(f"checkpoint and full tiles {what}: p99 {spread([percentile(s, 0.99) for s in sides], 1)} ms "
                  f"over {sum(len(s) for s in sides):,} reads (target p99 ≤ 20 ms)")  # fmt: skip
    if not nginx:
        print(f"{PROXIED}: not measured, nginx is not installed (not on PATH; apt-get install nginx)")
    return 0
