"""The projector opens each stored payload with its record's key; an erased record's events are
left out of the facts, an erased objection still keeps its person out of every answer, and a
key store that never knew a record is not an erasure: its events are set aside, and listed."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from hub.domain.journey import Journey
from hub.ingest.seen import SqliteSeen
from hub.ingest.service import Ingest
from hub.keys.sqlite import EmbeddedRecordKeys
from hub.log import EmbeddedLog
from hub.projection.updater import Projector
from hub.store.application import Hub
from hub.worker.worker import Worker
from projections.answering import prepare
from schemas.place import Place
from tests.gateway_key import TEST_GATEWAY
from tests.unit.test_events import EXAMPLES, _event
from tests.unit_keys import TEST_UNIT_KEYS

HUB_KEY = b"h" * 32
AT = datetime(2025, 1, 1, tzinfo=UTC)


def _record(n: int, person: int, kind: str = "hub.referral.made.v1") -> dict[str, Any]:
    return _event(
        kind, EXAMPLES[kind], id=f"{n:064x}-v1", recordref=f"{n:064x}", subject=f"{person:064x}"
    )


@pytest.fixture
def hub(tmp_path: Path) -> tuple[Hub, Ingest, EmbeddedRecordKeys]:
    app = Hub(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    keys = EmbeddedRecordKeys(tmp_path / "record-keys.sqlite")
    log = EmbeddedLog(tmp_path / "log.sqlite")
    ingest = Ingest(log, SqliteSeen(tmp_path / "seen.sqlite"), HUB_KEY, keys, TEST_GATEWAY)
    events = [_record(1, 1), _record(2, 1), _record(3, 2), _record(4, 2)]
    events.append(_record(5, 2, "hub.objection.recorded.v1"))
    assert {o.status for o in ingest.submit("police-north", events)} == {"accepted"}
    Worker(app, log).run_until_caught_up()
    return app, ingest, keys


def _facts(app: Hub, place: Place, keys: EmbeddedRecordKeys) -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    Projector(app, con, place, keys=keys, unit_keys=TEST_UNIT_KEYS).catch_up()
    return con.execute("select recordref, type, locality, need from facts order by 1").fetchall()


def test_a_record_whose_key_is_erased_is_left_out_of_the_facts(
    hub: tuple[Hub, Ingest, EmbeddedRecordKeys], place: Place
) -> None:
    app, ingest, keys = hub
    before = _facts(app, place, keys)
    assert len(before) == 5
    assert {row[2] for row in before} == {"ashfield"}  # opened: the locality in clear
    erased = ingest.rekey(f"{1:064x}")
    assert keys.erase(("urn:agency:police-north", erased), AT, 1)
    after = _facts(app, place, keys)
    assert [row for row in before if row[0] != erased] == after


def test_an_erased_objection_still_keeps_its_person_out(
    hub: tuple[Hub, Ingest, EmbeddedRecordKeys], place: Place
) -> None:
    app, ingest, keys = hub
    objection = ingest.rekey(f"{5:064x}")
    assert keys.erase(("urn:agency:police-north", objection), AT, 1)
    rows = {row[0]: row for row in _facts(app, place, keys)}
    assert rows[objection][1:] == ("objection.recorded", "(erased)", None)
    assert len(rows) == 5
    con = duckdb.connect()
    Projector(app, con, place, keys=keys, unit_keys=TEST_UNIT_KEYS).catch_up()
    prepare(con, place)
    people = {
        row[0] for row in con.execute("select distinct person from current_events").fetchall()
    }
    assert people == {str(Journey.create_id(ingest.rekey(f"{1:064x}")))}  # person 2 objected


def test_a_key_store_that_never_knew_a_record_sets_its_events_aside(
    hub: tuple[Hub, Ingest, EmbeddedRecordKeys], place: Place, tmp_path: Path
) -> None:
    app, _, _ = hub
    con = duckdb.connect()
    other = EmbeddedRecordKeys(tmp_path / "other-keys.sqlite")
    projector = Projector(app, con, place, keys=other, unit_keys=TEST_UNIT_KEYS)
    projector.catch_up()
    aside = projector.set_aside()
    assert len(aside) == 5
    assert all("not this store's keys" in a.reason for a in aside)
    # Nothing opened, and the objection still keeps its person out, as an erased one does.
    rows = con.execute("select type, locality from facts").fetchall()
    assert rows == [("objection.recorded", "(erased)")]
