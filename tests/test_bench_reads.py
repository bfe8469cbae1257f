"""`jejak bench reads` on a small log: the service and the strong bare endpoint both
serve, every round reports each read beside the bare indexed read, and the crowd that
holds a box's history is answered 304. (The figures are in docs/BENCHMARKS.md; timings
are never asserted.)"""

from __future__ import annotations

import re

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
    for read in ("history", "page", "baseline", "hoax"):
        assert re.search(rf"^\| {read} \| {spread} \| [\d.]+ \| {spread} \| {spread} \| .+ \|$", out, re.M), out
    assert re.search(r"^checkpoint and full tiles while the history load ran: p99 ", out, re.M), out
