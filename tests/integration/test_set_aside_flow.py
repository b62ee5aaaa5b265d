"""A wired hub (embedded, and Kafka with PostgreSQL) with one bad entry in its log: every
question still answers, and `hub rejected` names the entry, whether the worker set it aside or
(stored past the worker's check) the projections did."""

from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from hub.bootstrap import Runtime, open_access, open_hub, open_projections
from hub.cli import app as cli
from hub.demo.run import quiet, run_demo
from hub.projection.answers import DEMO_VIEWS
from hub.settings import Settings
from hub.worker.worker import Worker
from schemas.logged import LoggedEvent
from schemas.place import load_place
from tests.integration.conftest import MakeSettings, settings_env
from tests.integration.served import serving
from tests.unit.test_set_aside import keyless_entry

PATHS = [("embedded", "sqlite"), ("kafka", "postgres")]


def every_question_answers(hub: Runtime, place: Path) -> None:
    with open_projections(hub, load_place(place)) as projections:
        projections.catch_up()
        for slug, cuts, _ in DEMO_VIEWS:
            table = projections.answer(slug, list(cuts), None)
            assert table is not None, slug


def hub_rejected(settings: Settings) -> str:
    env = settings_env(settings) | {"COLUMNS": "400"}
    done = CliRunner().invoke(cli, ["rejected"], env=env)
    assert done.exit_code == 0, done.output
    return done.output


@pytest.mark.parametrize(("log", "store"), PATHS)
def test_an_entry_without_a_record_key_is_set_aside_and_every_question_answers(
    settings_for: MakeSettings, agencies: Path, log: str, store: str
) -> None:
    settings = settings_for(log, store)
    bad = keyless_entry()
    with open_hub(settings) as hub:
        run_demo(hub, agencies, people=60, seed=3, stage=quiet)
        hub.log.append([hub.gateway.sign(bad)])  # the gateway's: past the authenticator
        assert hub.worker.run_until_caught_up() == 1
        every_question_answers(hub, settings.folder.place)
        assert hub.worker.rejections == 1
    listed = hub_rejected(settings)
    assert "1 rejected entries waiting" in listed
    assert "no key in the record-key store" in listed
    assert "0 stored events set aside" in listed


@pytest.mark.parametrize(("log", "store"), PATHS)
def test_a_stored_event_that_cannot_be_opened_is_set_aside_and_every_question_answers(
    settings_for: MakeSettings, agencies: Path, log: str, store: str
) -> None:
    settings = settings_for(log, store)
    bad = keyless_entry()
    with open_hub(settings) as hub:
        run_demo(hub, agencies, people=60, seed=3, stage=quiet)
        hub.log.append([bad])
        assert Worker(hub.app, hub.log).run_until_caught_up() == 1  # past the key check
        every_question_answers(hub, settings.folder.place)
    listed = hub_rejected(settings)
    assert "1 stored events set aside" in listed
    assert LoggedEvent.model_validate_json(bad.value).id in listed


def test_the_auditors_status_counts_and_lists_the_events_set_aside(
    settings_for: MakeSettings, agencies: Path
) -> None:
    settings = settings_for("embedded", "sqlite")
    bad = keyless_entry()
    with open_hub(settings) as hub:
        run_demo(hub, agencies, people=60, seed=3, stage=quiet)
        hub.log.append([bad])
        Worker(hub.app, hub.log).run_until_caught_up()  # past the key check
    access = open_access(settings)
    try:
        auditor = access.create("auditor").token
    finally:
        access.close()
    with serving(settings) as url:
        status = httpx.get(
            f"{url}/v1/audit/status", headers={"Authorization": f"Bearer {auditor}"}, timeout=60
        )
    assert status.status_code == 200, status.text
    aside = status.json()["setAside"]
    assert aside["count"] == 1
    [event] = aside["events"]
    assert event["event"] == LoggedEvent.model_validate_json(bad.value).id
    assert "no key" in event["reason"]
