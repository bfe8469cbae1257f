"""`jejak bench growth` on a small log: it appends, signs, proves and verifies at each
size and prints its table. (The figures are in docs/BENCHMARKS.md; timings are never
asserted.) Its log's scans are from a fixed synthetic clock, appended weeks later:
`jejak verify` must not find them late syncs their records do not flag."""

from __future__ import annotations

import re

import pytest

from scripts.cli import main


@pytest.mark.slow
@pytest.mark.postgres
def test_the_growth_benchmark_measures_each_size_and_verifies_the_log(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Sizes at least the timed window (10,000) and the signings after it apart.
    assert main(["bench", "growth", "--database", database_url, "--sizes", "10000", "25000", "--proofs", "50"]) == 0
    out = capsys.readouterr().out
    for size in ("10,000", "25,000"):
        assert re.search(rf"^\| {size} \| [\d,]+ \| [\d.]+ / [\d.]+ \|", out, re.M), out
