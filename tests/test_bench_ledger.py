"""`jejak bench ledger` on a tiny log: the harness runs its rounds and baselines, and
every implementation it compares computes the same root. (The figures themselves are
in docs/BENCHMARKS.md; timings are never asserted.)"""

from __future__ import annotations

import re

import pytest

from scripts.cli import main


@pytest.mark.slow
def test_the_ledger_benchmark_runs_its_baselines_and_agrees_on_the_root(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["bench", "ledger", "--database", "sqlite://", "--entries", "3000", "--rounds", "2"]
    assert main([*args, "--proof-tree", "600", "--proofs", "20"]) == 0
    out = capsys.readouterr().out
    assert len(re.findall(r"round \d: log [\d,]+/s, plain store [\d,]+/s, pre-built rows [\d,]+/s", out)) == 2
    assert re.search(r"^\| sqlite \| \d+ B \| [\d,]+ \| [\d,]+ \| \d\.\d\d \| [\d,]+ \| \d\.\d\d \|$", out, re.M)
    proofs = re.findall(r"^\| (jejak on sqlite, \w+ cache|pymerkle \w+) \|.* \| (\w+) \|$", out, re.M)
    assert sorted(name for name, _ in proofs) == [
        "jejak on sqlite, cold cache", "jejak on sqlite, warm cache", "pymerkle InmemoryTree", "pymerkle SqliteTree",
    ]
    assert {same for _, same in proofs} == {"yes"}
