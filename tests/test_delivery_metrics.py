"""/metrics on what leaves the service: webhook deliveries (attempts by outcome, how
long receivers take, how far subscriptions lag) and witness cosigning (submissions by
outcome, how far each witness's last cosignature lags the log's checkpoint)."""

from __future__ import annotations

import re
from ipaddress import ip_network

from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from ledger.cosignature import CosignatureSigner, CosignatureVerifier
from ledger.note import Verifier
from models.accounts.actor import Actor, Role
from models.log.witnesses import Witness as LogWitness, WitnessClient
from models.webhooks.delivery import Deliverer
from models.webhooks.subscriptions import WebhookKind, create_subscription
from scripts.witness import Witness, WitnessState, create_app as witness_app
from tests.factories import register
from tests.helpers import append, scans

LOOPBACK = (ip_network("127.0.0.0/8"),)


def gauge(client, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    found = re.search(rf"^{name}{{{re.escape(wanted)}}} (\S+)$", client.get("/metrics").text, re.M)
    assert found, f"{name}{{{wanted}}} not in /metrics"
    return float(found.group(1))


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_webhook_attempts_and_lag_are_measured(client, runtime, crew, area, no_subscriptions_left) -> None:
    owner = crew["kpu"].person
    with runtime.db.session(write=True) as session:
        create_subscription(
            session, owner=Actor(owner.id, Role.KPU, area.kpu), url="http://127.0.0.1:9/hook",
            kinds=[WebhookKind.EVENTS], jurisdiction=area.kpu,
        )  # fmt: skip
    register(crew, (area.tps[0], "BUP"))
    crew["kpu"].send(crew["kpu"].scan("seal", area.item(0), area.kpu, seals=["S-1"]))
    assert gauge(client, "jejak_webhook_lag_entries", log=area.kpu) >= 1
    failed = counted("jejak_webhook_delivery_attempts_total", outcome="failed")
    settings = runtime.settings.model_copy(update={"webhook_timeout": 1.0, "webhook_allowed_networks": LOOPBACK})
    deliverer = Deliverer(runtime.db, settings)
    try:
        deliverer.deliver_due()  # nothing listens on port 9: the attempt fails
    finally:
        deliverer.stop()
    assert counted("jejak_webhook_delivery_attempts_total", outcome="failed") == failed + 1
    assert counted("jejak_webhook_delivery_seconds_count") >= 1


def test_witness_cosigning_is_counted_and_its_lag_measured(client, runtime, new_log, tmp_path) -> None:
    witness = Witness(
        CosignatureSigner.generate("saksi.example/metrics"),
        [Verifier.from_vkey(new_log.verifier_key)],
        WitnessState(tmp_path / "witness.db"),
    )
    configured = LogWitness("http://m.test", CosignatureVerifier.from_vkey(witness.signer.vkey))
    submitter = WitnessClient(
        configured, runtime.db, runtime.tiles, TestClient(witness_app(witness), base_url=configured.url)
    )
    append(runtime, new_log.id, scans(3))
    runtime.checkpointer.sign_grown_logs()
    cosigned = counted("jejak_witness_submissions_total", witness=configured.name, outcome="cosigned")
    assert submitter.submit(new_log.id)
    assert counted("jejak_witness_submissions_total", witness=configured.name, outcome="cosigned") == cosigned + 1
    assert gauge(client, "jejak_witness_lag_entries", log=new_log.id, witness=configured.name) == 0
    append(runtime, new_log.id, scans(2, start=3))
    runtime.checkpointer.sign_grown_logs()
    assert gauge(client, "jejak_witness_lag_entries", log=new_log.id, witness=configured.name) == 2
