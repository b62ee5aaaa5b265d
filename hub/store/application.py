"""The hub's event-sourced application: journeys and the partnership in one store.

One store means one notification log, so projections, the audit ledger and replay follow a
single order. Persistence is eventsourcing's own choice by settings (`PERSISTENCE_MODULE`,
`SQLITE_DBNAME`, `POSTGRES_*`); the recorder is a process recorder, so the worker can save
the log positions it has applied in the same transaction as the events they produced.

    app = Hub(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": "hub.db"})
"""

from collections.abc import Callable, Iterable
from itertools import groupby
from operator import attrgetter
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, ProcessRecorder
from eventsourcing.postgres import PostgresFactory
from eventsourcing.sqlite import SQLiteFactory
from eventsourcing.utils import get_topic

from hub.domain.journey import Journey
from hub.store.memory_queries import MemoryQueries
from hub.store.partnerships import Partnerships
from hub.store.postgres_queries import PostgresQueries
from hub.store.queries import StoreQueries
from hub.store.recorders import LedgerPostgresRecorder, LedgerSQLiteRecorder
from hub.store.sqlite_queries import SQLiteQueries

CHUNK = 500  # ids per query (SQLite allows 32,766 parameters; PostgreSQL takes an array)

# The one place a backend is chosen: eventsourcing's factory (by PERSISTENCE_MODULE) gives the
# recorder with the ledger beside the events and the store's queries (`hub.store.queries`) for
# it; any other store (in memory) keeps no ledger and is read through its recorder.
BACKENDS: dict[type, tuple[type[ProcessRecorder], Callable[[Any], StoreQueries]]] = {
    SQLiteFactory: (LedgerSQLiteRecorder, SQLiteQueries),
    PostgresFactory: (LedgerPostgresRecorder, PostgresQueries),
}


class Hub(Partnerships):
    """The partnership's commands (from Partnerships) and the people's journeys."""

    queries: StoreQueries
    """The store's reads beyond the recorder's, answered by its backend (`BACKENDS`)."""

    def construct_recorder(self) -> ApplicationRecorder:
        # On SQLite and PostgreSQL the recorder also writes the audit ledger and the index of
        # agency events, in the same transaction as the events (an in-memory store keeps none).
        factory = self.factory
        chosen = BACKENDS.get(type(factory))
        if chosen is not None:
            factory.env[factory.PROCESS_RECORDER_TOPIC] = get_topic(chosen[0])
        recorder = factory.process_recorder()
        self.queries = chosen[1](recorder) if chosen is not None else MemoryQueries(recorder)
        return recorder

    @property
    def process_recorder(self) -> ProcessRecorder:
        """The recorder, as the process recorder it is (tracking positions beside events)."""
        recorder = self.recorder
        assert isinstance(recorder, ProcessRecorder)  # construct_recorder made it one
        return recorder

    def journey_of(self, person: str) -> Journey:
        """The journey of a person (hub pseudonym); raises eventsourcing's AggregateNotFound."""
        journey: Journey = self.repository.get(Journey.create_id(person))
        return journey

    def journeys_of(self, persons: Iterable[str]) -> dict[str, Journey]:
        """The stored journeys of `persons`, read in one query per 500 (not one per person);
        a person with no journey yet is left out."""
        ids = {Journey.create_id(person): person for person in persons}
        found: dict[str, Journey] = {}
        keys = list(ids)
        for first in range(0, len(keys), CHUNK):
            rows = self.queries.events_of_many(keys[first : first + CHUNK])
            for originator, stored in groupby(rows, key=attrgetter("originator_id")):
                journey = None
                for event in map(self.mapper.to_domain_event, stored):
                    assert isinstance(event, Journey.Event)
                    journey = event.mutate(journey)
                assert isinstance(journey, Journey)
                found[ids[UUID(str(originator))]] = journey
        return found
