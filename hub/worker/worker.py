"""The worker: from the event log into the event store, exactly once.

For each partition it reads the entries after the position it has applied, records each event
in its person's journey, and saves the new domain events together with the position reached
(eventsourcing's tracking record) in one transaction. A crash at any moment leaves either both
or neither, so a restart resumes exactly where the store left off: nothing lost, nothing twice.
An event already in a journey is a no-op.

An entry the worker cannot apply (without the gateway's authenticator, `hub.log.authenticator`;
not a `schemas.logged.LoggedEvent`; keyed under another person; of a record the key store has
never known, whose payload could never be opened) goes to the rejected log with its field and
reason before the position passes it, and the worker goes on; `hub rejected` lists them.
The record keys of what it applies are confirmed in use; `sweep_keys` deletes those no entry
uses (`hub.worker.sweep`).

    worker = Worker(app, log, rejected=rejected_log, gateway=gateway)
    worker.run_until_caught_up()                # apply what is there, then return
    worker.run(stop=lambda: stopping.is_set())  # a member of the group "hub-worker", until told

Two workers may run at once (Kafka shares the partitions between them): if both ever write for
the same person or position, the store refuses the second write (aggregate versions and the
tracking record both only move forward), and that worker drops what it remembered and reads
again from the store's positions.

The wired hub (`hub.bootstrap.open_hub`) always gives the worker the gateway. One built without
it checks no authenticator: for tests, and for reading the hub's log into a second store (a
reference run), never for a log others can write to.
"""

import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import IntegrityError, Tracking

from hub.domain.journey import Journey
from hub.keys.port import RecordKeys
from hub.log import Authenticator, EventLog, LogConsumer, LogEntry, LogRecord
from hub.log.authenticator import HEADER as AUTH_HEADER
from hub.settings import WORKER_GROUP
from hub.store.application import Hub
from hub.worker.rejected import logged_event, rejection
from hub.worker.sweep import SWEEP_AFTER, SWEEP_EVERY_S, sweep_unused_keys
from schemas.logged import LoggedEvent

NO_KEY = (
    "has no key in the record-key store (not sealed by this hub's ingest): its payload could "
    "never be opened"
)


def tracking_name(log: EventLog, partition: int) -> str:
    """The name under which a partition's applied position is tracked in the store."""
    return f"{log.name}/{partition}"


class Worker:
    """Applies the log to the hub's application; see the module docstring."""

    def __init__(
        self,
        app: Hub,
        log: EventLog,
        batch_size: int = 1000,
        cache_size: int = 200_000,
        rejected: EventLog | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        after_save: Callable[[], None] | None = None,
        keys: RecordKeys | None = None,
        gateway: Authenticator | None = None,
    ) -> None:
        """`keys`: the record keys, to refuse an entry whose record has no key (looked up once
        a batch); without them every well-formed entry is applied. `gateway`: to refuse an
        entry without its authenticator (one HMAC an entry); without it none is checked (see
        the module docstring)."""
        self.app, self.log, self.batch_size = app, log, batch_size
        self.keys, self.gateway = keys, gateway
        self.after_save = after_save  # called after each saved batch (the ledger's checkpoints)
        self.rejected, self._clock = rejected, clock
        # The worker is the only writer of journeys, so the journeys it saved are current:
        # keeping them saves replaying a person's whole history for each new batch.
        self._cache: OrderedDict[str, Journey] = OrderedDict()
        self._cache_size = cache_size
        self.rejections = 0
        self.conflicts = 0

    def next_offset(self, partition: int) -> int:
        """The first offset of `partition` not yet applied (tracking stores offset + 1)."""
        applied = self.app.process_recorder.max_tracking_id(tracking_name(self.log, partition))
        return applied or 0

    def lag(self) -> int:
        """How many log entries wait to be applied (by any worker of the store)."""
        ends = self.log.end_offsets()
        return sum(end - self.next_offset(p) for p, end in ends.items())

    def step(self, partition: int) -> int:
        """Apply one batch of `partition` read from its position; return how many entries."""
        start = self.next_offset(partition)
        entries = self.log.read(partition, start, self.batch_size)
        if entries:
            self.apply(partition, entries)
        else:
            self._pass(partition, start, self.log.skip(partition, start))
        return len(entries)

    def _pass(self, partition: int, start: int, past: int) -> None:
        """Move the position of `partition` from `start` to `past` with nothing to apply in
        between (only Kafka's transaction markers or aborted records), so the lag reaches 0."""
        if past > start:
            with contextlib.suppress(IntegrityError):  # another worker moved it on first
                self.app.events.put([], tracking=Tracking(tracking_name(self.log, partition), past))

    def apply(self, partition: int, entries: list[LogEntry]) -> None:
        """Apply consecutive `entries` of `partition`, which start at its position, and save
        the new domain events with the position after them in one transaction."""
        refused: list[LogRecord] = []
        checked: list[tuple[LogEntry, LoggedEvent]] = []
        gateway = self.gateway
        for entry in entries:
            forged = gateway.problem(entry) if gateway is not None else None
            if forged is not None:
                refused.append(self._rejection(entry, AUTH_HEADER, forged))
                continue
            event, problem = logged_event(entry)
            if event is not None:
                checked.append((entry, event))
            else:
                assert problem is not None
                refused.append(self._rejection(entry, *problem))
        if self.keys is not None and checked:
            records = {(e.source, e.recordref) for _, e in checked}
            unknown = self._keyless(records)
            # In use from now on (ingest confirms them too, but may have died first): a
            # pending key is swept only once no committed entry can hold it (`sweep_keys`).
            self.keys.confirm(records - unknown)
            for entry, event in checked:
                if (event.source, event.recordref) in unknown:
                    refused.append(self._rejection(entry, "recordref", NO_KEY))
            checked = [(n, e) for n, e in checked if (e.source, e.recordref) not in unknown]
        if refused and self.rejected is not None:
            # Before the position passes them: a crash now sends them again, never loses them
            # (`hub rejected` shows each entry once).
            self.rejected.append(refused)
        self.rejections += len(refused)
        # In order of first appearance, so the same log always gives the same store order.
        first: dict[str, LoggedEvent] = {}
        for _, event in checked:
            first.setdefault(event.subject, event)
        known = self._journeys(list(first))
        journeys = {
            person: known.get(person) or Journey(person, timestamp=event.time.astimezone(UTC))
            for person, event in first.items()
        }
        for _, event in checked:
            self._record(event, journeys)
        events: list[DomainEventProtocol[Any]] = []
        for journey in journeys.values():
            events += journey.collect_events()
        tracking = Tracking(tracking_name(self.log, partition), entries[-1].offset + 1)
        try:
            self.app.events.put(events, tracking=tracking)
        except BaseException:
            self._cache.clear()  # what was not saved must not be remembered
            raise
        self._remember(journeys)
        if self.after_save is not None:
            self.after_save()

    def sweep_keys(self, older_than: timedelta = SWEEP_AFTER) -> int:
        """Delete the record keys no entry of the log uses (`hub.worker.sweep`); how many."""
        if self.keys is None:
            return 0
        return sweep_unused_keys(self.log, self.keys, self.next_offset, self._clock(), older_than)

    def _keyless(self, records: set[tuple[str, str]]) -> set[tuple[str, str]]:
        """Those of `records` the key store has never known (an erased one it knows)."""
        assert self.keys is not None
        return records - self.keys.lookup(records).keys()

    def _journeys(self, persons: list[str]) -> dict[str, Journey]:
        """The current journeys of `persons` that exist (remembered, or read in bulk), in the
        order of `persons`; a person without one yet is left out."""
        missing = [p for p in persons if p not in self._cache]
        found = self.app.journeys_of(missing) if missing else {}
        ordered = ((p, self._cache.get(p) or found.get(p)) for p in persons)
        return {p: journey for p, journey in ordered if journey is not None}

    def _remember(self, journeys: dict[str, Journey]) -> None:
        for person, journey in journeys.items():
            self._cache[person] = journey
            self._cache.move_to_end(person)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def forget(self, partitions: set[int] | None = None) -> None:
        """Drop remembered journeys (all, or those of `partitions`): another writer may have
        moved them on."""
        if partitions is None:
            self._cache.clear()
            return
        for person in [p for p in self._cache if self.log.partition_of(p) in partitions]:
            del self._cache[person]

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

    def run(
        self,
        stop: Callable[[], bool],
        progress: Callable[[int], None] | None = None,
        group: str = WORKER_GROUP,
        poll_s: float = 0.5,
    ) -> int:
        """Apply the log as a member of the reader group `group` until `stop()` is true
        (checked between batches: a batch is saved whole or not at all); return how many
        entries were applied."""
        consumer = self.log.consumer(group, self._start_of, self.forget)
        total = 0
        swept_at = time.monotonic()
        try:
            while not stop():
                polled = consumer.poll(poll_s, self.batch_size)
                if not polled:
                    self._pass_idle(consumer)
                    if time.monotonic() - swept_at > SWEEP_EVERY_S:
                        swept_at = time.monotonic()
                        self.sweep_keys()
                for partition, entries in polled.items():
                    total += self._apply_polled(consumer, partition, entries)
                    if progress is not None:
                        progress(len(entries))
        finally:
            consumer.close()
        return total

    def _pass_idle(self, consumer: LogConsumer) -> None:
        """With nothing to read, move each assigned partition's position to the consumer's
        where it has read past transaction markers alone (`_pass`)."""
        for partition in consumer.assigned():
            self._pass(partition, self.next_offset(partition), consumer.position(partition))

    def _start_of(self, partition: int) -> int:
        self.forget({partition})
        return self.next_offset(partition)

    def _apply_polled(self, consumer: LogConsumer, partition: int, entries: list[LogEntry]) -> int:
        start = self.next_offset(partition)
        # The consumer's entries follow on from its position, which is the store's (it was
        # sought there on assignment and after every conflict). They need not start at it:
        # a transaction's marker takes an offset between two entries.
        entries = [e for e in entries if e.offset >= start]
        if not entries:
            return 0
        try:
            self.apply(partition, entries)
        except IntegrityError:
            # Another worker wrote this person or position first: start again from the store.
            self.conflicts += 1
            self.forget()
            for assigned in consumer.assigned():
                consumer.seek(assigned, self.next_offset(assigned))
            return 0
        return len(entries)

    def _record(self, logged: LoggedEvent, journeys: dict[str, Journey]) -> None:
        """Record one checked event in its person's journey (a no-op if already there)."""
        journey = journeys[logged.subject]
        if journey.has_recorded(logged.source, logged.id):
            return  # already applied: re-sent, or replayed after a crash
        journey.record(
            source=logged.source,
            event_id=logged.id,
            event_type=logged.type,
            recordref=logged.recordref,
            recordversion=logged.recordversion,
            keyversion=logged.keyversion,
            sealed=logged.sealed,
            recorded_at=logged.recordedat.astimezone(UTC),
            timestamp=logged.time.astimezone(UTC),
        )

    def _rejection(self, entry: LogEntry, field: str, reason: str) -> LogRecord:
        return rejection(self.log.name, entry, field, reason, self._clock())
