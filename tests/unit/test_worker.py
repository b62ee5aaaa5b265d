"""The worker applies the log to journeys exactly once, and resumes where the store left off."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.ingest.seen import SqliteSeen
from hub.ingest.service import Ingest
from hub.keys.sqlite import EmbeddedRecordKeys
from hub.log import EmbeddedLog, LogRecord
from hub.store.application import Hub
from hub.worker.worker import Worker, tracking_name
from tests.gateway_key import TEST_GATEWAY
from tests.unit.test_events import EXAMPLES, _event

HUB_KEY = b"h" * 32
CLOCK = datetime(2024, 6, 1, 12, tzinfo=UTC)


def _events(n: int) -> list[dict[str, Any]]:
    """n referrals about three people, each its own record."""
    return [
        _event(
            "hub.referral.made.v1",
            EXAMPLES["hub.referral.made.v1"],
            id=f"{i:064x}-v1",
            recordref=f"{i:064x}",
            subject=f"{i % 3:064x}",
            time=f"2024-03-{1 + i % 28:02d}T10:00:00Z",
        )
        for i in range(n)
    ]


@pytest.fixture
def app() -> Hub:
    return Hub(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


@pytest.fixture
def log(tmp_path: Path) -> EmbeddedLog:
    log = EmbeddedLog(tmp_path / "log.sqlite")
    keys = EmbeddedRecordKeys(tmp_path / "record-keys.sqlite")
    ingest = Ingest(
        log, SqliteSeen(tmp_path / "seen.sqlite"), HUB_KEY, keys, TEST_GATEWAY, clock=lambda: CLOCK
    )
    assert {o.status for o in ingest.submit("police-north", _events(30))} == {"accepted"}
    return log


def test_every_logged_event_joins_its_persons_journey_once(app: Hub, log: EmbeddedLog) -> None:
    worker = Worker(app, log, batch_size=4)
    assert worker.run_until_caught_up() == 30
    assert worker.lag() == 0
    people = {orjson.loads(e.value)["subject"] for p in range(6) for e in log.read(p, 0, 100)}
    journeys = [app.journey_of(person) for person in people]
    assert sorted(len(j.applied) for j in journeys) == [10, 10, 10]
    assert worker.run_until_caught_up() == 0


def test_a_redelivered_log_entry_is_a_no_op(app: Hub, log: EmbeddedLog) -> None:
    worker = Worker(app, log)
    worker.run_until_caught_up()
    first = log.read(0, 0, 1) or log.read(1, 0, 1) or log.read(2, 0, 1)
    entry = first[0]
    log.append([LogRecord(entry.key, entry.value)])
    before = app.recorder.max_notification_id()
    assert worker.run_until_caught_up() == 1
    assert app.recorder.max_notification_id() == before


def test_the_position_reached_is_saved_with_the_events(app: Hub, log: EmbeddedLog) -> None:
    Worker(app, log, batch_size=5).run_until_caught_up()
    for partition, end in log.end_offsets().items():
        assert (app.process_recorder.max_tracking_id(tracking_name(log, partition)) or 0) == end


def test_event_times_come_from_the_agency_and_the_record_time_from_ingest(
    app: Hub, log: EmbeddedLog
) -> None:
    Worker(app, log).run_until_caught_up()
    stored = app.recorder.select_notifications(start=1, limit=1000)
    recorded = [app.mapper.to_domain_event(s) for s in stored]
    recordings = [e for e in recorded if type(e).__name__ == "AgencyEventRecorded"]
    assert len(recordings) == 30
    assert all(e.recorded_at == CLOCK for e in recordings)  # type: ignore[attr-defined]
    assert {e.timestamp.day for e in recordings} == set(range(1, 29))


def test_the_agencys_key_version_is_kept_in_the_stored_event(app: Hub, log: EmbeddedLog) -> None:
    Worker(app, log).run_until_caught_up()
    stored = app.recorder.select_notifications(start=1, limit=1000)
    recorded = [app.mapper.to_domain_event(s) for s in stored]
    recordings = [e for e in recorded if type(e).__name__ == "AgencyEventRecorded"]
    assert {e.keyversion for e in recordings} == {1}  # type: ignore[attr-defined]


def test_an_entry_appended_before_the_logged_event_contract_is_still_applied(
    app: Hub, log: EmbeddedLog
) -> None:
    """Ingest used to copy the agency's CloudEvents envelope attributes into the entry: an entry
    of then, still waiting in a log at the upgrade, is applied, not set aside."""
    entry = next(e for p in range(6) for e in log.read(p, 0, 1))
    older = orjson.loads(entry.value) | {
        "specversion": "1.0",
        "datacontenttype": "application/json",
        "dataschema": "https://schemas.example/hub.referral.made.v1.json",
    }
    fresh = EmbeddedLog(Path(str(log.path) + ".older"))
    fresh.append([LogRecord(key=entry.key, value=orjson.dumps(older))])
    worker = Worker(app, fresh)
    assert worker.run_until_caught_up() == 1
    assert worker.rejections == 0
    assert len(app.journey_of(older["subject"]).applied) == 1
