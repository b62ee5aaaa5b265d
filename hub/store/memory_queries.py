"""The store's queries (`hub.store.queries`) on a store without SQL (eventsourcing's in-memory
recorder, for tests): read through the recorder's notifications; it keeps no audit ledger."""

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import NoReturn
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Notification, StoredEvent

from hub.store.queries import LedgerError, Positioned, StoreQueries, Streams
from hub.store.record_index import RECORDED, index_row


def _no_ledger() -> NoReturn:
    raise LedgerError("this store keeps no audit ledger (an in-memory store?)")


class MemoryQueries(StoreQueries):
    """The port read through eventsourcing's recorder interface."""

    keeps_ledger = False

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.recorder = recorder

    def _notifications(self, topics: Sequence[str] = ()) -> Iterator[Notification]:
        start = 1
        while batch := self.recorder.select_notifications(start=start, limit=10_000, topics=topics):
            yield from batch
            start = batch[-1].id + 1

    def events_of_many(self, ids: Sequence[UUID]) -> list[StoredEvent]:
        return [event for i in ids for event in self.recorder.select_events(i)]

    def events_with_positions(self, originator: UUID) -> list[Positioned]:
        found = [(n.id, n) for n in self._notifications() if n.originator_id == originator]
        return sorted(found, key=lambda positioned: positioned[1].originator_version)

    def record_events(self, source: str, recordref: str) -> list[Positioned]:
        return [
            (n.id, n)
            for n in self._notifications([RECORDED])
            if (row := index_row(n.id, n.topic, n.state)) and row[1:3] == (source, recordref)
        ]

    def record_event_count(self, source: str, recordref: str) -> int:
        return len(self.record_events(source, recordref))

    def position_of_event(self, source: str, event_id: str) -> int | None:
        for n in self._notifications([RECORDED]):
            row = index_row(n.id, n.topic, n.state)
            if row and (row[1], row[3]) == (source, event_id):
                return n.id
        return None

    def ledger_size(self) -> int:
        _no_ledger()

    def ledger_nodes(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        _no_ledger()

    def ledger_leaf(self, index: int) -> tuple[int, bytes] | None:
        _no_ledger()

    def leaf_at(self, notification_id: int) -> int | None:
        _no_ledger()

    def leaf_with_hash(self, hashed: bytes) -> int | None:
        _no_ledger()

    def snapshot(self) -> AbstractContextManager[Streams]:
        _no_ledger()
