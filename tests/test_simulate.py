"""`jejak simulate` on a tiny slice: one district of Belu (53.04), two villages, a
Pilkada, driven through a real server it starts, checked and verified.

The long runs (a whole province) are make targets, not tests (docs/BENCHMARKS.md)."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from models.core.errors import Conflict
from models.custody.alerts import Alert
from models.custody.events import Event
from models.custody.handoffs import Handoff
from models.custody.items import Item
from models.runtime import Runtime
from scripts import simulate

SLICE = ["--district", "53.04.01", "--villages", "2", "--tps-per-village", "2", "--election", "pilkada"]


def _args(*extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    simulate.add_arguments(parser)
    return parser.parse_args([*SLICE, "--verify-workers", "1", *extra])


@pytest.mark.slow
def test_the_slice_is_driven_through_the_api_checked_and_verified(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert simulate.simulate(runtime, _args()) == 0
    out = capsys.readouterr().out
    assert "count check OK" in out
    assert "every log verifies" in out
    with runtime.db.reads() as session:
        rules = dict(
            session.execute(select(Alert.rule, func.count()).where(Alert.log_id == "53.04").group_by(Alert.rule)).all()
        )
        scans = session.scalar(select(func.count()).select_from(Event).where(Event.log_id == "53.04"))
        boxes = session.scalar(select(func.count()).select_from(Item).where(Item.log_id == "53.04"))
        trucks = list(session.scalars(select(Handoff).where(Handoff.log_id == "53.04")))
    # One of each planted irregularity, and nothing else flagged.
    assert rules == {"late_sync": 1, "seal_mismatch": 1, "wrong_site": 1, "incident_wet": 1}
    assert boxes == 2 * len(simulate.plan(runtime, _args()).stations)
    # Every truckload picked up and delivered by its escort, in one scan each.
    assert trucks and all(t.escorted and t.picked_up_at and t.delivered_at for t in trucks)
    # Every step of every box, the incident, the wrong village's receive before the right
    # one's, and each truckload's pickup and delivery.
    assert scans == boxes * len(simulate.STEPS) + 2 + 2 * len(trucks)
    with pytest.raises(Conflict, match="53.04"):  # an election is simulated on fresh logs
        simulate.simulate(runtime, _args())


def test_the_same_seed_makes_the_same_election_in_the_past(runtime: Runtime) -> None:
    first, second = simulate.plan(runtime, _args()), simulate.plan(runtime, _args())
    assert first.stations == second.stations and first.planted == second.planted
    assert sorted(first.planted.values()) == sorted(simulate.IRREGULARITIES)
    route = simulate.Route(first)
    now = datetime.now(UTC)
    for box in first.boxes:
        times = [route.observed(box, step) for step in range(len(simulate.STEPS))]
        assert times == sorted(times) and times[-1] < now, box.id
        opened = times[[kind for kind, *_ in simulate.STEPS].index("open")]
        assert opened.utcoffset() is not None and opened.hour == 7  # 07:00 local on voting day
    assert simulate.plan(runtime, _args("--seed", "other")).planted != first.planted
