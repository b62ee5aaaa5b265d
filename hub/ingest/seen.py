"""Ingest's duplicate check: which (source, hub event id) pairs have been accepted.

seen = SqliteSeen(settings.folder.seen)
seen.known([(source, id_)])   # those already accepted
seen.remember([(source, id_)])  # after they are safely in the log

Its PostgreSQL adapter, shared by several gateway processes, is `hub.ingest.seen_postgres`.
"""

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from pathlib import Path


class Seen(ABC):
    """The port that remembers which (source, hub event id) pairs have been accepted."""

    @abstractmethod
    def known(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Those of `keys` already accepted."""

    @abstractmethod
    def remember(self, keys: Sequence[tuple[str, str]]) -> None:
        """Record `keys` as accepted (after they are safely in the log)."""

    def close(self) -> None:  # noqa: B027  (nothing to release unless an adapter holds some)
        """Release what the adapter holds (nothing, unless it says otherwise)."""


class SqliteSeen(Seen):
    """The embedded Seen: one SQLite table beside the log."""

    def __init__(self, path: Path) -> None:
        # Usable from any thread; callers that share it (the API) serialise their calls.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("pragma journal_mode=wal")
        self._db.execute(
            "create table if not exists accepted (source text, id text, primary key (source, id))"
            " without rowid"
        )

    def known(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        by_source: dict[str, list[str]] = {}
        for source, id_ in keys:
            by_source.setdefault(source, []).append(id_)
        found: set[tuple[str, str]] = set()
        for source, ids in by_source.items():
            for first in range(0, len(ids), 400):  # within SQLite's limit on bound values
                chunk = ids[first : first + 400]
                marks = ",".join("?" * len(chunk))
                query = f"select id from accepted where source = ? and id in ({marks})"
                rows = self._db.execute(query, [source, *chunk]).fetchall()
                found.update((source, row[0]) for row in rows)
        return found

    def remember(self, keys: Sequence[tuple[str, str]]) -> None:
        with self._db:
            self._db.execute("begin")
            self._db.executemany("insert or ignore into accepted values (?, ?)", keys)

    def close(self) -> None:
        self._db.close()
