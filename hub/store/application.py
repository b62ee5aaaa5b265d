"""The hub's event-sourced application: journeys and the partnership in one store.

One store means one notification log, so projections, the audit ledger and replay follow a
single order. Persistence is eventsourcing's own choice by settings (`PERSISTENCE_MODULE`,
`SQLITE_DBNAME`, `POSTGRES_*`); the recorder is a process recorder, so the worker can save
the log positions it has applied in the same transaction as the events they produced.

    app = Hub(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": "hub.db"})
"""

from collections.abc import Iterable, Sequence
from itertools import groupby
from operator import attrgetter
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, ProcessRecorder, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresFactory
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteFactory
from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier

from hub.domain.journey import Journey
from hub.store.partnerships import Partnerships
from hub.store.recorders import LedgerPostgresRecorder, LedgerSQLiteRecorder

CHUNK = 500  # ids per query (SQLite allows 32,766 parameters; PostgreSQL takes an array)


class Hub(Partnerships):
    """The partnership's commands (from Partnerships) and the people's journeys."""

    def construct_recorder(self) -> ApplicationRecorder:
        # On SQLite and PostgreSQL the recorder also writes the audit ledger, in the same
        # transaction as the events (an in-memory store, for unit tests, keeps none).
        factory = self.factory
        recorder = {SQLiteFactory: LedgerSQLiteRecorder, PostgresFactory: LedgerPostgresRecorder}
        chosen = recorder.get(type(factory))
        if chosen is not None:
            factory.env[factory.PROCESS_RECORDER_TOPIC] = get_topic(chosen)
        return factory.process_recorder()

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
            rows = self._select_many(keys[first : first + CHUNK])
            for originator, stored in groupby(rows, key=attrgetter("originator_id")):
                journey = None
                for event in map(self.mapper.to_domain_event, stored):
                    assert isinstance(event, Journey.Event)
                    journey = event.mutate(journey)
                assert isinstance(journey, Journey)
                found[ids[UUID(str(originator))]] = journey
        return found

    def _select_many(self, ids: Sequence[UUID]) -> list[StoredEvent]:
        """Every stored event of `ids`, by originator then version, in one statement."""
        recorder = self.recorder
        if isinstance(recorder, PostgresApplicationRecorder):
            statement = SQL(
                "SELECT originator_id, originator_version, topic, state FROM {}.{} "
                "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
            ).format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
            with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(statement, [list(ids)])
                rows = curs.fetchall()
            return [
                StoredEvent(r["originator_id"], r["originator_version"], r["topic"], r["state"])
                for r in rows
            ]
        if isinstance(recorder, SQLiteApplicationRecorder):
            marks = ",".join("?" * len(ids))
            query = (
                "SELECT originator_id, originator_version, topic, state "
                f"FROM {recorder.events_table_name} WHERE originator_id IN ({marks}) "
                "ORDER BY originator_id, originator_version"
            )
            with recorder.datastore.transaction(commit=False) as curs:
                curs.execute(query, [i.hex for i in ids])
                rows = curs.fetchall()
            return [
                StoredEvent(
                    recorder.convert_originator_id(r["originator_id"]),
                    r["originator_version"],
                    r["topic"],
                    r["state"],
                )
                for r in rows
            ]
        return [event for i in ids for event in recorder.select_events(i)]
