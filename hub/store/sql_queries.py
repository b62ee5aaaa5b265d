"""The port's statements that read the same on SQLite and PostgreSQL, written once.

Each adapter gives `_rows(text, params)`, which fills in its table names (`{events}`,
`{ledger}`, `{index}`) and its driver's parameter style; the statements here mark parameters
qmark-style (`?`). What differs between the backends (positions, originator ids, array
parameters, casts, snapshots) stays in the adapters.
"""

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

from hub.store.queries import StoreQueries

EVENT = "originator_id, originator_version, topic, state"
"""A stored event's columns, in eventsourcing's order."""


class SqlQueries(StoreQueries):
    """The statements both SQL adapters share."""

    @abstractmethod
    def _rows(self, text: str, params: Sequence[object] = ()) -> list[Any]:
        """The rows of one statement (qmark parameters, table names in braces)."""

    def record_event_count(self, source: str, recordref: str) -> int:
        rows = self._rows(
            "SELECT COUNT(*) FROM {index} WHERE source = ? AND recordref = ?", [source, recordref]
        )
        return int(rows[0][0])

    def position_of_event(self, source: str, event_id: str) -> int | None:
        rows = self._rows(
            "SELECT MIN(notification_id) FROM {index} WHERE source = ? AND event_id = ?",
            [source, event_id],
        )
        return None if rows[0][0] is None else int(rows[0][0])

    def ledger_size(self) -> int:
        return int(self._rows("SELECT MAX(size) FROM {ledger}")[0][0] or 0)

    def ledger_leaf(self, index: int) -> tuple[int, bytes] | None:
        rows = self._rows(
            "SELECT notification_id, hash FROM {ledger} WHERE size = ? AND level = 0", [index + 1]
        )
        return (int(rows[0][0]), bytes(rows[0][1])) if rows else None

    def leaf_at(self, notification_id: int) -> int | None:
        rows = self._rows(
            "SELECT size FROM {ledger} WHERE notification_id = ? AND level = 0", [notification_id]
        )
        return int(rows[0][0]) - 1 if rows else None

    def leaf_with_hash(self, hashed: bytes) -> int | None:
        rows = self._rows("SELECT MIN(size) FROM {ledger} WHERE level = 0 AND hash = ?", [hashed])
        return None if rows[0][0] is None else int(rows[0][0]) - 1
