"""The Journey records each agency event with its payload sealed and its key version, keeps
objections working on the type in clear, reads an event stored before key versions were kept,
and refuses, saying what to do, an event stored before payloads were sealed."""

from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID

import orjson
import pytest
from eventsourcing.persistence import StoredEvent

from hub.domain.journey import OBJECTION, Journey, JourneyError
from hub.store.application import Hub

AT = datetime(2024, 3, 5, 14, 30, tzinfo=UTC)


def _recorded(journey: Journey, event_type: str, n: int) -> None:
    journey.record(
        source="urn:agency:police-north",
        event_id=f"{n:064x}-v1",
        event_type=event_type,
        recordref=f"{n:064x}",
        recordversion=1,
        keyversion=2,
        sealed="c2VhbGVk" * 6,
        recorded_at=AT,
        timestamp=AT,
    )


def test_a_journey_keeps_the_sealed_payload_and_notes_an_objection_by_its_type() -> None:
    journey = Journey("ab" * 32, timestamp=AT)
    _recorded(journey, "hub.referral.made.v1", 1)
    assert journey.objected_at is None
    _recorded(journey, OBJECTION, 2)
    assert journey.objected_at == AT
    assert journey.has_recorded("urn:agency:police-north", f"{1:064x}-v1")
    recorded = journey.collect_events()[1]
    assert recorded.sealed == "c2VhbGVk" * 6  # type: ignore[attr-defined]
    assert recorded.keyversion == 2  # type: ignore[attr-defined]
    assert not hasattr(recorded, "data")


def test_an_event_stored_before_sealing_is_refused_with_what_to_do() -> None:
    app = Hub(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    journey = Journey("ab" * 32, timestamp=AT)
    _recorded(journey, "hub.referral.made.v1", 1)
    stored = app.mapper.to_stored_event(journey.collect_events()[1])
    state = orjson.loads(stored.state)
    assert state.pop("class_version") == 3
    old = state | {"locality": "ashfield", "data": {"need": "housing"}}
    del old["sealed"], old["keyversion"]
    with pytest.raises(JourneyError, match="stored before sealing"):
        app.mapper.to_domain_event(replace(stored, state=orjson.dumps(old)))


# A journey as the hub stored it before it kept key versions (AgencyEventRecorded version 2):
# the bytes exactly as that code wrote them.
JOURNEY = UUID("d0902b94-c89b-57e3-9dfc-61703b39d709")
TIME = b'{"_type_":"datetime_iso","_data_":"2024-03-05T14:30:00+00:00"}'
STORED_AS_V2 = [
    (
        "hub.domain.journey:Journey.Started",
        b'{"timestamp":' + TIME + b',"originator_topic":"hub.domain.journey:Journey",'
        b'"person":"' + b"ab" * 32 + b'"}',
    ),
    (
        "hub.domain.journey:Journey.AgencyEventRecorded",
        b'{"timestamp":' + TIME + b',"source":"urn:agency:police-north",'
        b'"event_id":"' + b"0" * 63 + b'1-v1","event_type":"hub.referral.made.v1",'
        b'"recordref":"' + b"0" * 63 + b'1","recordversion":1,'
        b'"sealed":"' + b"c2VhbGVk" * 6 + b'","recorded_at":' + TIME + b',"class_version":2}',
    ),
]


def test_a_journey_stored_before_key_versions_were_kept_is_read_without_one() -> None:
    app = Hub(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.recorder.insert_events(
        [StoredEvent(JOURNEY, n, topic, state) for n, (topic, state) in enumerate(STORED_AS_V2, 1)]
    )
    journey = app.journey_of("ab" * 32)
    assert journey.has_recorded("urn:agency:police-north", "0" * 63 + "1-v1")
    (notification,) = app.recorder.select_notifications(start=2, limit=1)
    recorded = app.mapper.to_domain_event(notification)
    assert recorded.keyversion is None  # type: ignore[attr-defined]
    assert recorded.sealed == "c2VhbGVk" * 6  # type: ignore[attr-defined]
    assert recorded.recorded_at == AT  # type: ignore[attr-defined]
    _recorded(journey, OBJECTION, 2)  # and goes on with events that have one
    app.save(journey)
    assert app.journey_of("ab" * 32).objected_at == AT
