"""Record keys made for events that never reached the log are swept; those in use never are.

Ingest makes a key before its event is committed (`Ingest.prepare`) and confirms it after
(`Ingest.settle`). A gateway that dies between its commit and `settle` leaves a used key pending:
the worker confirms it as it applies the entry, so a sweep keeps it. A gateway that dies before
its commit leaves a key nothing uses: once the store has applied the whole log, it is swept."""

from datetime import timedelta
from pathlib import Path

import pytest

from hub.ingest.seen import SqliteSeen
from hub.ingest.service import Ingest
from hub.keys.sqlite import EmbeddedRecordKeys
from hub.log import EmbeddedLog
from hub.store.application import Hub
from hub.worker.worker import Worker
from schemas.submission import validated
from tests.gateway_key import TEST_GATEWAY
from tests.unit.test_worker import CLOCK, HUB_KEY, _events

NOW = timedelta(0)  # sweep every pending key, however new


@pytest.fixture
def parts(tmp_path: Path) -> tuple[EmbeddedLog, EmbeddedRecordKeys, Ingest, Worker]:
    log = EmbeddedLog(tmp_path / "log.sqlite")
    keys = EmbeddedRecordKeys(tmp_path / "record-keys.sqlite")
    seen = SqliteSeen(tmp_path / "seen.sqlite")
    ingest = Ingest(log, seen, HUB_KEY, keys, TEST_GATEWAY, clock=lambda: CLOCK)
    app = Hub(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    return log, keys, ingest, Worker(app, log, keys=keys, gateway=TEST_GATEWAY)


def test_a_key_whose_event_never_reached_the_log_is_swept(
    parts: tuple[EmbeddedLog, EmbeddedRecordKeys, Ingest, Worker],
) -> None:
    _log, keys, ingest, worker = parts
    prepared = ingest.prepare("police-north", validated(_events(5)))  # then the gateway died
    assert len(keys.get(prepared.used)) == 5
    assert worker.run_until_caught_up() == 0
    assert worker.sweep_keys(NOW) == 5
    assert keys.get(prepared.used) == {}


def test_a_key_in_use_is_kept_though_ingest_died_before_confirming_it(
    parts: tuple[EmbeddedLog, EmbeddedRecordKeys, Ingest, Worker],
) -> None:
    log, keys, ingest, worker = parts
    prepared = ingest.prepare("police-north", validated(_events(5)))
    log.append(prepared.records)  # committed, but never settled
    assert worker.sweep_keys(NOW) == 0  # entries wait: no sweep at all
    assert worker.run_until_caught_up() == 5
    assert worker.sweep_keys(NOW) == 0  # the worker confirmed them as it applied them
    assert len(keys.get(prepared.used)) == 5


def test_a_settled_batch_keeps_its_keys_and_an_old_sweep_spares_new_keys(
    parts: tuple[EmbeddedLog, EmbeddedRecordKeys, Ingest, Worker],
) -> None:
    _log, keys, ingest, worker = parts
    assert {o.status for o in ingest.submit("police-north", _events(3))} == {"accepted"}
    pending = ingest.prepare("police-north", validated(_events(6)[3:]))
    assert worker.run_until_caught_up() == 3
    assert worker.sweep_keys() == 0  # made just now: far newer than the hour a sweep waits
    assert worker.sweep_keys(NOW) == 3
    assert keys.get(pending.used) == {}
