"""Prometheus metrics the log itself records (the API adds its request metrics)."""

from __future__ import annotations

from prometheus_client import Histogram

INTEGRATION_SECONDS = Histogram(
    "jejak_log_integration_seconds",
    "Time from an append request to its entries being committed to the log",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
