"""schemathesis over the whole OpenAPI document (/openapi.json), signed in as every role
and as nobody: no answer is a 5xx, and every answer (status, content type, headers,
body) is one the document declares; invalid input is refused with a 4xx.

CI runs a few cases per operation and role (about a minute for all nine); `make
test-fuzz` runs many more, with schemathesis's coverage phase (every boundary of every
parameter) too, with a new seed each time. CI's seed is fixed, so its failures
reproduce; a failure names its seed (JEJAK_FUZZ_SEED=N replays it)."""

from __future__ import annotations

import os
import random

import pytest
import schemathesis
from schemathesis import engine
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events

from api.app import create_app

EXAMPLES = int(os.environ.get("JEJAK_FUZZ_EXAMPLES", "3"))
COVERAGE = os.environ.get("JEJAK_FUZZ_COVERAGE") == "1"
ROLES = ["admin", "kpu", "ppk", "pps", "kpps", "escort", "auditor", "integrator", "anonymous"]


def _seed() -> int:
    given = os.environ.get("JEJAK_FUZZ_SEED", "20241127")
    return int(given) if given.isdigit() else random.getrandbits(64)


SEED = _seed()


class _WithoutLifespan:
    """The fuzzer's own app (its own sign-in limits: the fuzzer's wrong passwords must
    lock no one else out), whose start-up the session's app has already done."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "lifespan":
            return await self.app(scope, receive, send)
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})


@pytest.fixture(scope="module")
def fuzzed(settings, world):
    """The app, and a signed-in person of every role in a regency of the fuzzer's own
    (the world's A)."""
    app = create_app(settings, start_background=False)
    yield _WithoutLifespan(app), world.people
    app.state.runtime.close()


def _failures(app, headers: dict[str, str]) -> tuple[int, list[str]]:
    """(checks made, each failed check as a line to act on) of one run of every phase."""
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "headers": headers,
            "generation": {"max-examples": EXAMPLES, "database": "none"},
            "phases": {"coverage": {"enabled": COVERAGE}, "stateful": {"enabled": False}},
            # A request the schema allows may still break a rule it cannot express (a
            # national account names the log it reads; a code must exist): a 4xx, not
            # an acceptance. Every other check stays on.
            "checks": {"positive_data_acceptance": {"enabled": False}},
            "workers": 1,
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    made, failed = 0, []
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for checks in event.recorder.checks.values():
                made += len(checks)
                failed += [
                    f"{event.recorder.label}: {c.name}: {c.failure_info.failure}\n    {c.failure_info.code_sample}"
                    for c in checks
                    if c.failure_info is not None
                ]
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            failed.append(f"{getattr(event, 'label', 'schemathesis')}: {event}")
    return made, failed


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_answers_as_documented(fuzzed, role):
    app, people = fuzzed
    made, failed = _failures(app, people[role].headers if role in people else {})
    assert made > 1000, f"only {made} checks: did the document load?"
    assert not failed, f"{len(failed)} failures (seed {SEED}):\n" + "\n".join(dict.fromkeys(failed))
