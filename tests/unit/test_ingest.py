"""Ingest: schema, source and raw-identifier checks, the hub's own pseudonyms, no repeats, the
personal payload sealed under its record's key."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.ingest.seen import Seen, SqliteSeen
from hub.ingest.service import Ingest
from hub.keys.port import RecordKeys
from hub.keys.sealing import unseal
from hub.keys.sqlite import EmbeddedRecordKeys
from hub.log import EmbeddedLog, EventLog
from schemas.errors import HubError
from schemas.logged import LoggedEvent
from tests.gateway_key import TEST_GATEWAY
from tests.unit.test_events import EXAMPLES, RECORD, _event

HUB_KEY = b"h" * 32
CLOCK = datetime(2025, 1, 1, tzinfo=UTC)


class MemorySeen(Seen):
    def __init__(self) -> None:
        self.keys: set[tuple[str, str]] = set()

    def known(self, keys: Any) -> set[tuple[str, str]]:
        return {k for k in keys if k in self.keys}

    def remember(self, keys: Any) -> None:
        self.keys.update(keys)


@pytest.fixture
def log(tmp_path: Path) -> EventLog:
    return EmbeddedLog(tmp_path / "log.sqlite")


@pytest.fixture
def keys(tmp_path: Path) -> RecordKeys:
    return EmbeddedRecordKeys(tmp_path / "record-keys.sqlite")


def _stored(log: EventLog) -> list[dict[str, Any]]:
    found = []
    for partition, end in log.end_offsets().items():
        found += [orjson.loads(e.value) for e in log.read(partition, 0, end)]
    return found


def _referral(**change: Any) -> dict[str, Any]:
    return _event("hub.referral.made.v1", EXAMPLES["hub.referral.made.v1"], **change)


def test_an_accepted_event_is_stored_under_the_hubs_own_pseudonyms(
    log: EventLog, keys: RecordKeys
) -> None:
    ingest = Ingest(log, MemorySeen(), HUB_KEY, keys, TEST_GATEWAY)
    event = _event("hub.service.started.v1", EXAMPLES["hub.service.started.v1"])
    assert [o.status for o in ingest.submit("police-north", [event])] == ["accepted"]
    (stored,) = _stored(log)
    assert stored["subject"] == ingest.rekey(event["subject"])
    assert stored["recordref"] == ingest.rekey(event["recordref"])
    assert stored["id"] == f"{stored['recordref']}-v1"
    payload = _opened(keys, stored)
    link = payload["data"]["referral"]
    assert link["recordref"] == ingest.rekey(event["data"]["referral"]["recordref"])
    agency_stage = {event["subject"], event["recordref"], event["data"]["referral"]["recordref"]}
    assert not any(p in orjson.dumps(stored).decode() for p in agency_stage)
    assert not any(p in orjson.dumps(payload).decode() for p in agency_stage)


def _opened(keys: RecordKeys, stored: dict[str, Any]) -> dict[str, Any]:
    (key,) = keys.get([(stored["source"], stored["recordref"])]).values()
    return unseal(key, stored["source"], stored["id"], stored["sealed"])


def test_the_personal_payload_is_appended_only_sealed_under_its_records_key(
    log: EventLog, keys: RecordKeys
) -> None:
    ingest = Ingest(log, MemorySeen(), HUB_KEY, keys, TEST_GATEWAY)
    event = _event("hub.contact.recorded.v1", EXAMPLES["hub.contact.recorded.v1"])
    assert [o.status for o in ingest.submit("police-north", [event])] == ["accepted"]
    (stored,) = _stored(log)
    clear = {"specversion", "id", "source", "type", "subject", "time", "recordref"}
    clear |= {"recordversion", "recordedat", "keyversion", "datacontenttype", "sealed"}
    assert set(stored) <= clear
    assert {"locality", "data"}.isdisjoint(stored)
    entry = next(e for p in range(6) for e in log.read(p, 0, 10))
    for plain in ("ashfield", "welfare-check", "housing", "phone"):
        assert plain.encode() not in entry.value
    assert _opened(keys, stored) == {"locality": "ashfield", "data": event["data"]}


def test_a_records_next_version_is_sealed_under_the_same_key_and_an_erased_one_refused(
    log: EventLog, keys: RecordKeys
) -> None:
    ingest = Ingest(log, MemorySeen(), HUB_KEY, keys, TEST_GATEWAY)
    ingest.submit("police-north", [_referral()])
    record = ("urn:agency:police-north", ingest.rekey(RECORD))
    first = keys.get([record])
    corrected = _referral(id=f"{RECORD}-v2", recordversion=2, locality="bramley")
    assert [o.status for o in ingest.submit("police-north", [corrected])] == ["accepted"]
    assert keys.get([record]) == first
    assert {e["recordversion"]: _opened(keys, e)["locality"] for e in _stored(log)} == {
        1: "ashfield",
        2: "bramley",
    }
    assert keys.erase(record, CLOCK, 2)
    third = _referral(id=f"{RECORD}-v3", recordversion=3)
    (outcome,) = ingest.submit("police-north", [third])
    assert (outcome.status, outcome.field) == ("rejected", "recordref")
    assert "erased" in (outcome.reason or "")
    assert keys.get([record]) == {}
    assert len(_stored(log)) == 2


def test_the_same_event_twice_is_a_duplicate_and_stored_once(
    log: EventLog, keys: RecordKeys
) -> None:
    ingest = Ingest(log, MemorySeen(), HUB_KEY, keys, TEST_GATEWAY)
    first = ingest.submit("police-north", [_referral(), _referral()])
    again = ingest.submit("police-north", [_referral()])
    assert [o.status for o in first + again] == ["accepted", "duplicate", "duplicate"]
    assert len(_stored(log)) == 1


def test_a_corrected_record_is_a_new_event(log: EventLog, keys: RecordKeys) -> None:
    ingest = Ingest(log, MemorySeen(), HUB_KEY, keys, TEST_GATEWAY)
    corrected = _referral(id=f"{'cd' * 32}-v2", recordversion=2)
    outcomes = ingest.submit("police-north", [_referral(), corrected])
    assert [o.status for o in outcomes] == ["accepted", "accepted"]
    assert sorted(e["recordversion"] for e in _stored(log)) == [1, 2]


def test_an_agency_may_publish_only_as_itself(log: EventLog, keys: RecordKeys) -> None:
    (outcome,) = Ingest(log, MemorySeen(), HUB_KEY, keys, TEST_GATEWAY).submit(
        "homes-trust", [_referral()]
    )
    assert (outcome.status, outcome.field) == ("rejected", "source")
    assert "forbidden" in (outcome.reason or "")
    assert _stored(log) == []


@pytest.mark.parametrize(
    ("data_change", "kind"),
    [
        ({"need": "9434765919"}, "NHS number"),
        ({"need": "07700900123"}, "phone number"),
        ({"need": "1980-01-02"}, "date"),
        ({"service": "02-01-1980"}, "date"),
    ],
)
def test_a_raw_identifier_in_a_coded_field_is_refused_by_field(
    log: EventLog, keys: RecordKeys, data_change: dict[str, str], kind: str
) -> None:
    data = dict(EXAMPLES["hub.referral.made.v1"], **data_change)
    (outcome,) = Ingest(log, MemorySeen(), HUB_KEY, keys, TEST_GATEWAY).submit(
        "police-north", [_event("hub.referral.made.v1", data)]
    )
    assert outcome.status == "rejected"
    assert outcome.field == f"data.{next(iter(data_change))}"
    assert kind in (outcome.reason or "")
    assert next(iter(data_change.values())) not in (outcome.reason or "")


def test_a_pseudonym_is_never_mistaken_for_a_raw_identifier(
    log: EventLog, keys: RecordKeys
) -> None:
    # 64 hex characters that hold a check-digit-valid NHS number and a phone-like run.
    tricky = ("9434765919" + "07700900123" + "0" * 43)[:64]
    event = _event(
        "hub.supportunit.linked.v1", {"unit": tricky, "role": "household"}, subject=tricky
    )
    (outcome,) = Ingest(log, MemorySeen(), HUB_KEY, keys, TEST_GATEWAY).submit(
        "police-north", [event]
    )
    assert outcome.status == "accepted"


def test_a_schema_error_is_rejected_naming_the_field_not_the_value(
    log: EventLog, keys: RecordKeys
) -> None:
    (outcome,) = Ingest(log, MemorySeen(), HUB_KEY, keys, TEST_GATEWAY).submit(
        "police-north", [_referral(time="05/03/2024 10:00")]
    )
    assert (outcome.status, outcome.field) == ("rejected", "time")
    assert "05/03/2024" not in (outcome.reason or "")


def test_the_embedded_seen_store_remembers_across_restarts(
    tmp_path: Path, log: EventLog, keys: RecordKeys
) -> None:
    first = SqliteSeen(tmp_path / "seen.sqlite")
    Ingest(log, first, HUB_KEY, keys, TEST_GATEWAY).submit("police-north", [_referral()])
    first.close()
    again = Ingest(log, SqliteSeen(tmp_path / "seen.sqlite"), HUB_KEY, keys, TEST_GATEWAY).submit(
        "police-north", [_referral()]
    )
    assert [o.status for o in again] == ["duplicate"]


def test_what_is_appended_is_exactly_a_logged_event_with_the_agencys_key_version(
    log: EventLog, keys: RecordKeys
) -> None:
    ingest = Ingest(log, MemorySeen(), HUB_KEY, keys, TEST_GATEWAY, clock=lambda: CLOCK)
    event = _referral(keyversion=3, time="2024-03-05T15:30:00+01:00")
    assert [o.status for o in ingest.submit("police-north", [event])] == ["accepted"]
    entry = next(e for p in range(6) for e in log.read(p, 0, 10))
    logged = LoggedEvent.model_validate_json(entry.value)  # no field of any other name
    assert set(orjson.loads(entry.value)) == set(LoggedEvent.model_fields)
    assert (logged.keyversion, logged.subject) == (3, entry.key)
    assert logged.time == datetime(2024, 3, 5, 14, 30, tzinfo=UTC)
    assert logged.recordedat == CLOCK
    assert logged.to_json() == entry.value == logged.model_dump_json().encode()


def test_a_hub_key_shorter_than_32_bytes_is_refused(log: EventLog, keys: RecordKeys) -> None:
    with pytest.raises(HubError, match="at least 32 bytes"):
        Ingest(log, MemorySeen(), b"short", keys, TEST_GATEWAY)
