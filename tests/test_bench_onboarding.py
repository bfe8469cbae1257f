"""`jejak bench onboarding` on a few officers: the harness builds the file, imports it
twice, prints the hashing baselines and times the sheet. (The figures are in
docs/BENCHMARKS.md; timings are never asserted.)"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_the_onboarding_benchmark_times_the_import_beside_the_hashing() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scripts.cli", "bench", "onboarding", "--officers", "30"] ,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "file: 30 rows" in out
    for part in ("import 30 officers (whole request)", "SHA-256 of 30 codes alone", "Argon2id, 5 secrets",
                 "import the same file again (unchanged)", "enrollment sheet of 30 officers (request)"):  # fmt: skip
        assert re.search(re.escape(part) + r" +[\d.,]+ m?s", out), part
    assert "(3 pages," in out and "targets: import under 60 s, sheet under 10 s: met" in out
