"""The authenticated log on the real Kafka path: an entry written straight to the log's topic,
even by the hub's own principal, without the gateway's authenticator is set aside on the
rejected topic, the worker goes on, `hub rejected` lists it and every question answers."""

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson

from hub.bootstrap import open_hub
from hub.demo.run import quiet, run_demo
from hub.log import LogRecord
from hub.log.authenticator import HEADER
from hub.log.kafka import KafkaLog
from hub.settings import Settings
from hub.worker.rejected import pending
from schemas.logged import LoggedEvent
from tests.integration.conftest import settings_env
from tests.integration.test_set_aside_flow import every_question_answers


def test_an_entry_written_to_the_topic_without_the_gateways_authenticator_is_set_aside(
    settings_for: Callable[[str, str], Settings], agencies: Path
) -> None:
    settings = settings_for("kafka", "sqlite")
    connection = settings.kafka
    assert connection is not None
    with open_hub(settings) as hub:
        run_demo(hub, agencies, people=100, seed=6, stage=quiet, apply=False)
        # The hub principal may write the topic: a plain append, past ingest and its gateway.
        with KafkaLog(connection, settings.topic, settings.partitions) as direct:
            entry = next(e for p in range(direct.partitions) for e in direct.read(p, 0, 1))
            assert hub.gateway.problem(entry) is None  # what ingest appended is signed
            unsigned = tuple(h for h in entry.headers if h[0] != HEADER)
            copied = LogRecord(entry.key, entry.value, unsigned)
            event = LoggedEvent.model_validate_json(entry.value)
            value = orjson.loads(entry.value) | {"id": "f" * 63 + "e-v1"}  # a new event
            new = LoggedEvent.model_validate(value)
            forged = LogRecord(entry.key, new.to_json(), new.binding_headers())
            direct.append([copied, forged])
        applied = hub.worker.run(lambda: hub.worker.lag() == 0, group=settings.worker_group)
        assert applied > 300
        assert hub.worker.rejections == 2
        items = pending(hub.rejected)
        assert [(i.key, i.field) for i in items] == [(entry.key, "hub-auth")] * 2
        assert all("not written by the hub's gateway" in i.reason for i in items)
        journey = hub.app.journey_of(entry.key)
        assert journey.has_recorded(event.source, event.id)  # the one ingest appended
        assert not journey.has_recorded(new.source, new.id)  # the forged one: never applied
        every_question_answers(hub, settings.folder.place)
    env = {**os.environ, **settings_env(settings), "COLUMNS": "400"}
    shown = subprocess.run(
        [sys.executable, "-m", "hub.cli", "rejected"], env=env, capture_output=True, text=True
    )
    assert shown.returncode == 0, shown.stderr
    assert "2 rejected entries waiting" in shown.stdout
    assert all(item.ref in shown.stdout for item in items)
    assert "not written by the hub's gateway" in shown.stdout
