"""The worker: from the event log into the event store, exactly once.

For each partition it reads the entries after the position it has applied, records each event
in its person's journey, and saves the new domain events together with the position reached
(eventsourcing's tracking record) in one transaction. A crash at any moment leaves either both
or neither, so a restart resumes exactly where the store left off: nothing lost, nothing twice.
An event already in a journey is a no-op.

    worker = Worker(app, log)
    worker.run_until_caught_up()
"""

from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking

from hub.application import Hub
from hub.domain.journey import Journey
from hub.log import EventLog

LOG_NAME = "hub.events.v1"


def tracking_name(partition: int) -> str:
    """The name under which a partition's applied position is tracked in the store."""
    return f"{LOG_NAME}/{partition}"


class Worker:
    """Applies the log to the hub's application; see the module docstring."""

    def __init__(
        self, app: Hub, log: EventLog, batch_size: int = 1000, cache_size: int = 200_000
    ) -> None:
        self.app, self.log, self.batch_size = app, log, batch_size
        # The worker is the only writer of journeys, so the journeys it saved are current:
        # keeping them saves replaying a person's whole history for each new batch.
        self._cache: OrderedDict[str, Journey] = OrderedDict()
        self._cache_size = cache_size

    def next_offset(self, partition: int) -> int:
        """The first offset of `partition` not yet applied (tracking stores offset + 1)."""
        applied = self.app.process_recorder.max_tracking_id(tracking_name(partition))
        return applied or 0

    def lag(self) -> int:
        """How many log entries wait to be applied."""
        ends = self.log.end_offsets()
        return sum(end - self.next_offset(p) for p, end in ends.items())

    def step(self, partition: int) -> int:
        """Apply one batch of `partition`; return how many entries it covered."""
        start = self.next_offset(partition)
        entries = self.log.read(partition, start, self.batch_size)
        if not entries:
            return 0
        journeys: dict[str, Journey] = {}
        for entry in entries:
            self._apply(orjson.loads(entry.value), journeys)
        events: list[DomainEventProtocol[Any]] = []
        for journey in journeys.values():
            events += journey.collect_events()
        tracking = Tracking(tracking_name(partition), entries[-1].offset + 1)
        try:
            self.app.events.put(events, tracking=tracking)
        except BaseException:
            self._cache.clear()  # what was not saved must not be remembered
            raise
        self._remember(journeys)
        return len(entries)

    def _remember(self, journeys: dict[str, Journey]) -> None:
        for person, journey in journeys.items():
            self._cache[person] = journey
            self._cache.move_to_end(person)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def run_until_caught_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Apply every partition until nothing waits; return how many entries were applied."""
        total = 0
        while True:
            done = sum(self._step_and_report(p, progress) for p in range(self.log.partitions))
            total += done
            if done == 0:
                return total

    def _step_and_report(self, partition: int, progress: Callable[[int], None] | None) -> int:
        done = self.step(partition)
        if progress is not None and done:
            progress(done)
        return done

    def _apply(self, stored: dict[str, Any], journeys: dict[str, Journey]) -> None:
        person = stored["subject"]
        journey = journeys.get(person)
        if journey is None:
            journey = self._load(person, stored)
            journeys[person] = journey
        if journey.has_recorded(stored["source"], stored["id"]):
            return  # already applied: re-sent, or replayed after a crash
        journey.record(
            source=stored["source"],
            event_id=stored["id"],
            event_type=stored["type"],
            locality=stored["locality"],
            recordref=stored["recordref"],
            recordversion=stored["recordversion"],
            data=stored["data"],
            recorded_at=_utc(stored["recordedat"]),
            timestamp=_utc(stored["time"]),
        )

    def _load(self, person: str, stored: dict[str, Any]) -> Journey:
        cached = self._cache.get(person)
        if cached is not None:
            return cached
        try:
            return self.app.journey_of(person)
        except AggregateNotFoundError:
            return Journey(person, timestamp=_utc(stored["time"]))


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)
