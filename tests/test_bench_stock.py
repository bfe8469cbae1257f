"""`jejak bench stock` on a slice (the first village of each district of NTT): the
harness loads it, times completeness, convoys and a stock-take's closing beside their
plain SELECTs, and says whether the targets are met. (The figures are in
docs/BENCHMARKS.md; timings are never asserted.)"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_the_stock_benchmark_times_completeness_convoys_and_a_closing() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scripts.cli", "bench", "stock", "--villages", "1", "--rounds", "1",
         "--stocktake-boxes", "20", "--stocktake-rounds", "1"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert re.search(r"loaded 22 regencies, [\d,]+ TPS, [\d,]+ boxes, [\d,]+ truckloads on the road", out)
    for part in ("completeness, all regencies", "plain SELECT of its TPS and kit rows", "convoys on the road, all regencies",
                 "plain SELECT of the open truckloads", "stock-take of 20 boxes: the closing"):  # fmt: skip
        assert re.search(re.escape(part) + r" +min +[\d.]+ ms, median +[\d.]+ ms, p99 +[\d.]+ ms, max +[\d.]+ ms", out), part
    assert re.search(r"ratio at p99, completeness / plain SELECT: [\d.]+", out)
    assert "closing reckoned 19 found, 1 missing, 0 unexpected" in out
