"""Prometheus metrics the log itself records (the API adds its request metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

INTEGRATION_SECONDS = Histogram(
    "jejak_log_integration_seconds",
    "Time from an append request to its entries being committed to the log",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

# Counted by the process that sends (one the delivery worker runs in, or a redelivery's).
WEBHOOK_ATTEMPTS = Counter(
    "jejak_webhook_delivery_attempts",
    "Webhook delivery attempts, by outcome: delivered (a 2xx answer) or failed",
    ["outcome"],
)
WEBHOOK_SECONDS = Histogram(
    "jejak_webhook_delivery_seconds",
    "How long a webhook receiver took to answer (or to fail)",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
WITNESS_SUBMISSIONS = Counter(
    "jejak_witness_submissions",
    "Checkpoints submitted to a witness for cosigning, by outcome: cosigned, refused, or retry "
    "(unreachable, failing, or a moving size)",
    ["witness", "outcome"],
)
