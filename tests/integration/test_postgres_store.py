"""The event store on a real PostgreSQL gives the same store and the same answers as SQLite."""

import uuid
from pathlib import Path
from typing import Any

import duckdb
import pytest

from hub.bootstrap import open_hub, open_store
from hub.demo.run import quiet, run_demo
from hub.keys.sqlite import EmbeddedRecordKeys
from hub.log import EmbeddedLog
from hub.projection.updater import Projector
from hub.settings import Settings
from hub.store.application import Hub
from hub.worker.worker import Worker
from projections.answering import prepare
from projections.questions import QUESTIONS, raw_answer
from schemas.place import load_place
from tests.unit_keys import TEST_UNIT_KEYS


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A place run through the embedded hub (SQLite store), its log kept for a second store."""
    folder = tmp_path_factory.mktemp("hub-data")
    agencies = tmp_path_factory.mktemp("demo-agencies")
    with open_hub(Settings(data_dir=folder)) as hub:
        run_demo(hub, agencies, people=500, seed=9, stage=quiet)
    return folder


def _stored(app: Hub) -> list[tuple[Any, ...]]:
    notifications = app.recorder.select_notifications(start=1, limit=1_000_000)
    return [(n.originator_id, n.originator_version, n.topic, n.state) for n in notifications]


def _answers(app: Hub, data_dir: Path) -> dict[str, list[dict[str, object]]]:
    place = load_place(data_dir / "place" / "place.toml")
    con = duckdb.connect()
    # The events were sealed by the embedded hub's ingest: its record keys open them.
    keys = EmbeddedRecordKeys(data_dir / "record-keys.sqlite")
    Projector(app, con, place, keys=keys, unit_keys=TEST_UNIT_KEYS).catch_up()
    keys.close()
    prepare(con, place)
    answers = {
        slug: raw_answer(con, slug, list(q.cuts), None, place) for slug, q in QUESTIONS.items()
    }
    con.close()
    return answers


def test_the_worker_on_postgresql_stores_what_it_stores_on_sqlite(
    embedded: Path, postgres_env: dict[str, str]
) -> None:
    sqlite = Hub(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(embedded / "hub.db"),
        }
    )
    schema = f"t_{uuid.uuid4().hex[:10]}"  # a store of its own on a shared server
    postgres = open_store(
        Settings(store="postgres", postgres=postgres_env | {"POSTGRES_SCHEMA": schema})
    )
    # The partnership first, as the demo did, then the same log through the worker.
    place = load_place(embedded / "place" / "place.toml")
    partnership = sqlite.get(place.slug)
    postgres.form_from_plan(place, at=partnership.created_on)
    applied = Worker(
        postgres, EmbeddedLog(embedded / "log.sqlite"), batch_size=500
    ).run_until_caught_up()
    assert applied > 1000
    assert sorted(_stored(postgres)) == sorted(_stored(sqlite))
    assert _answers(postgres, embedded) == _answers(sqlite, embedded)
