"""`jejak bench reads` on a small log: the service and the strong bare endpoint both
serve, every round reports each read beside the bare indexed read, and the crowd that
holds a box's history is answered 304; with nginx installed, the histories and check
pages through deploy/nginx.conf too, the checkpoint and tiles read beside the histories,
and without it a line says they were not measured. (The figures
are in docs/BENCHMARKS.md; timings are never asserted.)"""

from __future__ import annotations

import re
import shutil

import pytest

from scripts.cli import main


@pytest.mark.slow
@pytest.mark.postgres
def test_the_reads_benchmark_reports_each_read_against_the_bare_one(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["bench", "reads", "--database", database_url, "--read-boxes", "300", "--readers", "4",
            "--requests", "60", "--rounds", "2"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    spread = r"[\d,.]+ \([\d,.]+–[\d,.]+\)"
    proxied = "through nginx (deploy/nginx.conf)"
    reads = ["history", "page", "baseline", "hoax"]
    if shutil.which("nginx"):
        reads += [f"history {proxied}", f"page {proxied}", f"hoax {proxied}"]
        assert f"\ncheckpoint and full tiles {proxied} while its history load ran: p99 " in out, out
    else:
        assert f"\n{proxied}: not measured, nginx is not installed" in out, out
    for read in reads:
        assert re.search(rf"^\| {re.escape(read)} \| {spread} \| [\d.]+ \| {spread} \| {spread} \| .+ \|$", out, re.M), out
    assert re.search(r"^checkpoint and full tiles while the history load ran: p99 ", out, re.M), out
