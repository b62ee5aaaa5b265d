"""The Journey records each agency event with its payload sealed, keeps objections working on
the type in clear, and refuses, saying what to do, an event stored before payloads were sealed."""

from dataclasses import replace
from datetime import UTC, datetime

import orjson
import pytest

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
    assert not hasattr(recorded, "data")


def test_an_event_stored_before_sealing_is_refused_with_what_to_do() -> None:
    app = Hub(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    journey = Journey("ab" * 32, timestamp=AT)
    _recorded(journey, "hub.referral.made.v1", 1)
    stored = app.mapper.to_stored_event(journey.collect_events()[1])
    state = orjson.loads(stored.state)
    assert state.pop("class_version") == 2
    old = state | {"locality": "ashfield", "data": {"need": "housing"}}
    del old["sealed"]
    with pytest.raises(JourneyError, match="stored before sealing"):
        app.mapper.to_domain_event(replace(stored, state=orjson.dumps(old)))
