"""`jejak bench ingest` on a few scans: the real service and the bare endpoint both
serve under uvicorn, every round reports, and the count check finds each scan once.
(The figures are in docs/BENCHMARKS.md; timings are never asserted.)"""

from __future__ import annotations

import re

import pytest

from scripts.cli import main


@pytest.mark.slow
@pytest.mark.postgres
def test_the_ingest_benchmark_runs_its_rounds_and_counts_every_scan_once(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["bench", "ingest", "--database", database_url, "--batch-scans", "1000", "--batch", "250",
            "--batch-clients", "2", "--single-scans", "200", "--clients", "4", "--incident-scans", "600", "--rounds", "2"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    rounds = r"^round \d: batches [\d,]+ scans/s .* bare endpoint [\d,]+/s p99 \d+ ms: \d\.\d\d; incident batches [\d,]+ scans/s"
    assert len(re.findall(rounds, out, re.M)) == 2, out
    for run, scans in (("batches", "1,000"), ("incidents", "600"), ("singles", "200"), ("baseline", "200")):
        number, spread = r"[\d,.]+", r"[\d,.]+ \([\d,.]+–[\d,.]+\)"  # a median and its rounds' range
        assert re.search(rf"^\| {run} \| {scans} \| {number} \| {spread} \| {number} \| {spread} \| .+ \|$", out, re.M), out
    assert re.search(r"^singles: [\d.]+ \([\d.]+–[\d.]+\) of the strong bare endpoint's requests/s", out, re.M)
    assert re.search(r"^batches: .* of the insert ceiling; incident batches [\d.]+ \([\d.]+–[\d.]+\) of the verification", out, re.M)
    # Every incident raised its alert; no seal raised one.
    assert ("count check OK: scans sent 1,800, events 1,800 (1,800 distinct), seal entries in the log 1,200, "
            "incident entries 600, alerts 600") in out  # fmt: skip


@pytest.mark.slow
@pytest.mark.postgres
def test_the_ingest_benchmark_on_prefilled_logs_prints_both_and_their_ratio(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["bench", "ingest", "--database", database_url, "--batch-scans", "200", "--batch", "100",
            "--batch-clients", "2", "--single-scans", "40", "--clients", "4", "--incident-scans", "100", "--rounds", "1",
            "--prefill", "1500", "600"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    # 500 phones, the rules and a label key come first: 1,500 entries hold some 75 boxes.
    assert re.search(r"prefilled the log with 1,500 entries \([\d,]+ boxes, [\d,]+ events\)", out)
    for size in ("600", "1,500"):
        began = re.search(rf"the log prefilled with {size} entries \(its size ([\d,]+) when the rounds began", out)
        assert began and int(began[1].replace(",", "")) > int(size.replace(",", "")), out
    assert out.count("count check OK: scans sent 340, events 340 (340 distinct), seal entries in the log 240, "
                     "incident entries 100, alerts 100") == 2  # fmt: skip
    assert "## Growth: the log prefilled with 1,500 entries beside 600" in out
    for row in ("batches scans/s", "singles requests/s", "singles p99 ms", "strong bare endpoint requests/s"):
        assert re.search(rf"^\| {row} \| [\d,]+ \| [\d,]+ \| \d+\.\d\d \|$", out, re.M), out


@pytest.mark.parametrize(
    "args",
    [["--single-scans", "0"], ["--batch-scans", "400", "--rounds", "2"], ["--incident-scans", "0"], ["--rounds", "0"]],
)
def test_the_ingest_benchmark_refuses_a_round_with_nothing_to_send(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "ingest", *args]) == 1
    assert "every round sends at least one batch of each kind and one single scan" in capsys.readouterr().err
