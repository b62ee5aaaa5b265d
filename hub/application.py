"""The hub's event-sourced application: journeys and the partnership in one store.

One store means one notification log, so projections, the audit ledger and replay follow a
single order. Persistence is eventsourcing's own choice by settings (`PERSISTENCE_MODULE`,
`SQLITE_DBNAME`, `POSTGRES_*`); the recorder is a process recorder, so the worker can save
the log positions it has applied in the same transaction as the events they produced.

    app = Hub(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": "hub.db"})
"""

from eventsourcing.persistence import ApplicationRecorder, ProcessRecorder

from hub.domain.journey import Journey
from hub.partnerships import Partnerships


class Hub(Partnerships):
    """The partnership's commands (from Partnerships) and the people's journeys."""

    def construct_recorder(self) -> ApplicationRecorder:
        return self.factory.process_recorder()

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
