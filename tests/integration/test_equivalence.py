"""One scenario on every path: embedded log + SQLite, Kafka + SQLite, Kafka + PostgreSQL.

The same synthetic place goes through the connectors into each path's log: on the embedded
default through the hub's ingest in process; on Kafka as production goes, each agency enrolled
and publishing as itself to its inbound topic, a gateway checking every event into the log in
Kafka transactions with its receipts. A worker applies it (on Kafka, a member of its consumer
group), and every path gives the same full output of all seven questions: the exact rows at
each question's finest cuts, and what commissioners are shown (disclosure-controlled) with no
cut and with each cut alone.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connectors.synth.catalogue import PROFILE
from hub.bootstrap import open_hub, open_projections
from hub.demo.run import quiet, run_demo
from hub.enrolment.broker import Broker
from hub.settings import Settings
from projections.questions import QUESTIONS
from tests.integration.conftest import answers
from tests.integration.gateway_runs import start_group_at_end

PATHS = [("embedded", "sqlite"), ("kafka", "sqlite"), ("kafka", "postgres")]


def run_path(settings: Settings, agencies: Path) -> dict[str, Any]:
    """The scenario on one path: the full outputs, and how many entries the worker applied."""
    on_kafka = settings.kafka is not None
    if on_kafka:
        assert settings.kafka is not None
        if not (agencies / "kafka").exists():  # the first Kafka path enrols them afresh
            with Broker(settings.kafka) as broker:
                for slug in PROFILE:
                    broker.revoke(slug)
        start_group_at_end(settings.kafka, settings.gateway_group, [])
    with open_hub(settings) as hub:
        run = run_demo(
            hub,
            agencies,
            people=1200,
            seed=5,
            stage=quiet,
            apply=not on_kafka,
            through_gateway=on_kafka,
        )
        if on_kafka:
            applied = hub.worker.run(lambda: hub.worker.lag() == 0, group=settings.worker_group)
        else:
            applied = run.applied
        shown: dict[str, Any] = {}
        with open_projections(hub, run.place) as projections:
            projections.catch_up()
            for slug, question in QUESTIONS.items():
                for by in ([], *([cut] for cut in question.cuts)):
                    shown[f"{slug} by {by}"] = projections.answer(slug, by, None).to_json()
        return {
            "exact": answers(hub.app, run.place),
            "shown": shown,
            "applied": applied,
            "accepted": sum(a.accepted for a in run.agencies),
        }


def test_every_path_gives_the_same_answers(
    settings_for: Callable[[str, str], Settings], agencies: Path
) -> None:
    outputs = {path: run_path(settings_for(*path), agencies) for path in PATHS}
    reference = outputs[PATHS[0]]
    assert reference["accepted"] > 4000
    assert reference["applied"] == reference["accepted"]
    assert all(rows for rows in reference["exact"].values())
    for path in PATHS[1:]:
        output = outputs[path]
        assert output["applied"] == reference["applied"], path
        for slug in QUESTIONS:
            assert output["exact"][slug] == reference["exact"][slug], (path, slug)
        assert output["shown"] == reference["shown"], path


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_a_second_run_of_the_worker_applies_nothing(
    settings_for: Callable[[str, str], Settings], agencies: Path, store: str
) -> None:
    settings = settings_for("kafka", store)
    with open_hub(settings) as hub:
        run_demo(hub, agencies, people=150, seed=2, stage=quiet, apply=False)
        first = hub.worker.run(lambda: hub.worker.lag() == 0, group=settings.worker_group)
    with open_hub(settings) as hub:
        before = hub.app.recorder.max_notification_id()
        again = hub.worker.run(lambda: hub.worker.lag() == 0, group=settings.worker_group)
        assert hub.app.recorder.max_notification_id() == before
    assert first > 0
    assert again == 0
