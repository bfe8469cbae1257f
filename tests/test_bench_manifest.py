"""`jejak bench manifest` on a small truckload: the harness loads it, times each part and
says whether the target is met. (The figures are in docs/BENCHMARKS.md; timings are never
asserted.) It runs the app in its own process, as the command does: one process holds
one app's metrics."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_the_manifest_benchmark_times_the_request_and_its_parts() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scripts.cli", "bench", "manifest", "--boxes", "3", "--rounds", "1"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "loaded one truckload of 3 boxes" in out and re.search(r"manifest: 1 page\(s\)", out)
    for part in ("GET manifest.pdf (whole request)", "read the truckload and sign", "draw the PDF", "of which the QR code"):
        assert re.search(re.escape(part) + r" +min +[\d.]+ ms, median +[\d.]+ ms, max +[\d.]+ ms", out), part
    assert "under 2 s for the whole request: met" in out
