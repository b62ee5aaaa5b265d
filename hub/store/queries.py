"""The store's reads that SQL answers differently on each backend, behind one port.

eventsourcing's recorders read one aggregate or the notification log; the hub also reads many
aggregates at once, one record's events, the position of an agency event, an aggregate's events
with their positions, and the audit ledger. Each backend answers them in its own module
(`hub.store.sqlite_queries`, `hub.store.postgres_queries`; an in-memory store reads through the
recorder, `hub.store.memory_queries`), and the Hub application picks the one that goes with its
recorder (`Hub.queries`): nothing else writes SQL for the store but the recorders.

    app.queries.record_event_count("urn:agency:police-north", recordref)
    app.queries.position_of_event("urn:agency:police-north", event_id)

A record's events and an agency event's position are found through the index the recorders
write beside the events, in the same transaction (`hub.store.record_index`), not by searching
the stored state.
"""

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from schemas.errors import HubError

Positioned = tuple[int, StoredEvent]  # a stored event with its notification id
Streams = tuple[Iterator[tuple[Any, ...]], Iterator[tuple[Any, ...]]]


class LedgerError(HubError):
    """The ledger cannot answer (no such leaf or size, or no ledger); the message says which."""

    status = 404
    field = "leaf"


class StoreQueries(ABC):
    """The port: what the hub asks of its store beyond eventsourcing's recorder."""

    keeps_ledger = True
    """False for a store without an audit ledger (in memory): its ledger reads raise."""

    # -- events ------------------------------------------------------------------------------

    @abstractmethod
    def events_of_many(self, ids: Sequence[UUID]) -> list[StoredEvent]:
        """Every stored event of the aggregates `ids`, by originator then version, in one
        statement (the caller keeps `ids` to a few hundred)."""

    @abstractmethod
    def events_with_positions(self, originator: UUID) -> list[Positioned]:
        """An aggregate's stored events with their positions, by version."""

    @abstractmethod
    def record_events(self, source: str, recordref: str) -> list[Positioned]:
        """The stored events recording an agency event of the record `recordref` of `source`
        (its `urn:agency:` URN), every version, in store order; [] for an unknown record."""

    @abstractmethod
    def record_event_count(self, source: str, recordref: str) -> int:
        """How many stored events `record_events` would give."""

    @abstractmethod
    def position_of_event(self, source: str, event_id: str) -> int | None:
        """The position of the stored event recording agency event `event_id` of `source`
        (the first, should there be two); None if none does."""

    # -- the audit ledger (hub.store.ledger reads it through these) --------------------------

    @abstractmethod
    def ledger_size(self) -> int:
        """How many leaves the ledger has."""

    @abstractmethod
    def ledger_nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored hashes of the (size, level) keys, in one statement (absent ones left
        out; the caller keeps `keys` to a few hundred)."""

    @abstractmethod
    def ledger_leaf(self, index: int) -> tuple[int, bytes] | None:
        """Leaf `index`'s notification id and hash; None if there is no such leaf."""

    @abstractmethod
    def leaf_at(self, notification_id: int) -> int | None:
        """The index of the leaf covering the stored event at `notification_id`, or None."""

    @abstractmethod
    def leaf_with_hash(self, hashed: bytes) -> int | None:
        """The index of the first leaf whose hash is `hashed`, or None."""

    @abstractmethod
    def snapshot(self) -> AbstractContextManager[Streams]:
        """Two streams read in one consistent snapshot: the stored events in notification
        order (notification id, originator id, version, topic, state) and the ledger's rows in
        the order they were made (size, level, hash, notification id)."""
