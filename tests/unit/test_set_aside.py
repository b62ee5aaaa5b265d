"""One bad entry never stops an answer: the worker sets aside an entry whose record has no key
(on the rejected log, with its reason), and the projection updater sets aside a stored event it
cannot open (no key and never erased, or a broken seal), lists it, and loads the rest."""

import secrets
from pathlib import Path

import duckdb
import pytest

from hub.ingest.seen import SqliteSeen
from hub.ingest.service import Ingest
from hub.keys.sealing import new_key, seal
from hub.keys.sqlite import EmbeddedRecordKeys
from hub.log import EmbeddedLog, LogRecord
from hub.projection.answers import DEMO_VIEWS
from hub.projection.updater import Projector
from hub.store.application import Hub
from hub.worker.rejected import pending
from hub.worker.worker import Worker
from projections.answering import answer, prepare
from schemas.logged import LoggedEvent
from schemas.place import Place
from tests.gateway_key import TEST_GATEWAY
from tests.unit.test_projector import HUB_KEY, _record
from tests.unit_keys import TEST_UNIT_KEYS

SOURCE = "urn:agency:police-north"


def keyless_entry(person: str | None = None, key: bytes | None = None) -> LogRecord:
    """A well-formed log entry of a record no key store knows: sealed under a random key."""
    person = person or secrets.token_hex(32)
    ref = secrets.token_hex(32)
    event_id = f"{ref}-v1"
    event = LoggedEvent.model_validate(
        {
            "id": event_id,
            "source": SOURCE,
            "type": "hub.referral.made.v1",
            "subject": person,
            "time": "2025-01-15T10:00:00Z",
            "recordref": ref,
            "recordversion": 1,
            "recordedat": "2025-01-15T10:00:01Z",
            "keyversion": 1,
            "sealed": seal(
                key or new_key(), SOURCE, event_id, {"locality": "ashfield", "data": {}}
            ),
        }
    )
    return LogRecord(person, event.to_json())


@pytest.fixture
def parts(tmp_path: Path) -> tuple[Hub, Ingest, EmbeddedLog, EmbeddedLog, EmbeddedRecordKeys]:
    app = Hub(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    keys = EmbeddedRecordKeys(tmp_path / "record-keys.sqlite")
    log = EmbeddedLog(tmp_path / "log.sqlite")
    rejected = EmbeddedLog(tmp_path / "rejected.sqlite", partitions=1)
    ingest = Ingest(log, SqliteSeen(tmp_path / "seen.sqlite"), HUB_KEY, keys, TEST_GATEWAY)
    events = [_record(1, 1), _record(2, 1), _record(3, 2)]
    assert {o.status for o in ingest.submit("police-north", events)} == {"accepted"}
    return app, ingest, log, rejected, keys


def every_answer(app: Hub, keys: EmbeddedRecordKeys, place: Place) -> Projector:
    """Load the facts and ask all seven questions (each must answer); the projector used."""
    con = duckdb.connect()
    projector = Projector(app, con, place, keys=keys, unit_keys=TEST_UNIT_KEYS)
    projector.catch_up()
    prepare(con, place)
    for slug, cuts, _ in DEMO_VIEWS:
        answer(con, slug, list(cuts), None, place)
    return projector


def test_the_worker_sets_aside_an_entry_whose_record_has_no_key(
    parts: tuple[Hub, Ingest, EmbeddedLog, EmbeddedLog, EmbeddedRecordKeys], place: Place
) -> None:
    app, _, log, rejected, keys = parts
    bad = keyless_entry()
    log.append([bad])
    worker = Worker(app, log, rejected=rejected, keys=keys)
    assert worker.run_until_caught_up() == 4
    assert worker.rejections == 1
    [item] = pending(rejected)
    assert (item.key, item.field, item.value) == (bad.key, "recordref", bad.value)
    assert "no key in the record-key store" in item.reason
    projector = every_answer(app, keys, place)
    assert projector.con.execute("select count(*) from facts").fetchall() == [(3,)]
    assert projector.set_aside() == []


def test_the_updater_sets_aside_a_stored_event_without_a_key_and_goes_on(
    parts: tuple[Hub, Ingest, EmbeddedLog, EmbeddedLog, EmbeddedRecordKeys], place: Place
) -> None:
    app, _, log, _, keys = parts
    bad = keyless_entry()
    log.append([bad])
    Worker(app, log).run_until_caught_up()  # no key check: stored past it
    projector = every_answer(app, keys, place)
    assert projector.con.execute("select count(*) from facts").fetchall() == [(3,)]
    [aside] = projector.set_aside()
    assert aside.event_id == LoggedEvent.model_validate_json(bad.value).id
    assert aside.source == SOURCE
    assert "no key" in aside.reason
    assert projector.catch_up() == 0  # kept with the position: not tried again, not doubled
    assert len(projector.set_aside()) == 1


def test_the_updater_sets_aside_a_stored_event_whose_seal_does_not_open(
    parts: tuple[Hub, Ingest, EmbeddedLog, EmbeddedLog, EmbeddedRecordKeys], place: Place
) -> None:
    app, _, log, _, keys = parts
    bad = keyless_entry()
    event = LoggedEvent.model_validate_json(bad.value)
    keys.get_or_create([(SOURCE, event.recordref)])  # its record has a key, not the sealing one
    log.append([bad])
    Worker(app, log, keys=keys).run_until_caught_up()
    projector = every_answer(app, keys, place)
    [aside] = projector.set_aside()
    assert aside.event_id == event.id
    assert "does not open" in aside.reason
