"""The Journey aggregate: one person's cross-agency journey, keyed by their hub pseudonym.

Each agency event the hub accepts about the person is recorded once, with the time it happened
at the agency (the domain event's own timestamp) and the time the hub recorded it beside it.
Nothing here reads a clock, so replaying the same events stores the same bytes.

    at = datetime(2024, 3, 5, 14, 30, tzinfo=UTC)
    journey = Journey(person, timestamp=at)
    journey.record(source="urn:agency:police-north", event_id=..., event_type=..., sealed=...)
"""

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from schemas.errors import HubError

# Never change: every stored journey's id is derived from it and the person's pseudonym.
JOURNEY_NAMESPACE = UUID("2b0c3f4e-59e4-4c57-9a0f-7d8f0d1c6a11")
OBJECTION = "hub.objection.recorded.v1"


class JourneyError(HubError):
    """A journey command refused: the message says which event and why."""


class Journey(Aggregate):
    """What the agencies of a place have recorded about one person, in the order received."""

    class Event(Aggregate.Event):
        @staticmethod
        def create_timestamp() -> datetime:
            # The domain has no clock: a command without its time is a programming error.
            raise JourneyError("a journey event needs the time it happened; pass it")

    @staticmethod
    def create_id(person: str) -> UUID:
        """The same hub pseudonym always gives the same journey id."""
        return uuid5(JOURNEY_NAMESPACE, person)

    @event("Started")
    def __init__(self, person: str, *, timestamp: datetime) -> None:
        self.person = person
        self.applied: dict[str, int] = {}  # "source id" -> record version
        self.objected_at: datetime | None = None

    def has_recorded(self, source: str, event_id: str) -> bool:
        """True if this agency event is already part of the journey (applying it is a no-op)."""
        return f"{source} {event_id}" in self.applied

    class AgencyEventRecorded(Event):
        """One agency event; its personal payload (`locality` and `data`) sealed at ingest
        under its record's key, so erasing the record needs no stored event changed.

        Versions: 1 held the payload in clear (refused: there is no key to seal it with after
        the fact); 2 sealed it; 3 added `keyversion`, the place key version the agency made
        the event's pseudonyms with (None in an event stored as version 2: it was not kept)."""

        class_version = 3
        source: str
        event_id: str
        event_type: str
        recordref: str
        recordversion: int
        keyversion: int | None
        sealed: str
        recorded_at: datetime

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            raise JourneyError(
                f"stored event {state.get('source')} {state.get('event_id')} holds its payload "
                "in clear (stored before sealing): make the data folder again (`hub demo`)"
            )

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["keyversion"] = None  # stored before the hub kept it: not known

    @event(AgencyEventRecorded)
    def record(
        self,
        source: str,
        event_id: str,
        event_type: str,
        recordref: str,
        recordversion: int,
        keyversion: int,
        sealed: str,
        recorded_at: datetime,
        *,
        timestamp: datetime,
    ) -> None:
        """Record one agency event; its `timestamp` is when it happened at the agency,
        `keyversion` the agency's place key version, and `sealed` its payload as ingest sealed
        it (the type stays in clear: objections)."""
        self.applied[f"{source} {event_id}"] = recordversion
        if event_type == OBJECTION and self.objected_at is None:
            self.objected_at = timestamp
