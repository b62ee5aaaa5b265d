"""The embedded record-key store: one SQLite file in the data folder, secure_delete on."""

import sqlite3
import threading
import time
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path

import orjson

from hub.keys.port import TABLE, ErasedRecord, Record, RecordKeys
from hub.keys.sealing import new_key
from schemas.errors import HubError

SQLITE_DDL = f"""
create table if not exists {TABLE} (
    source text not null,
    recordref text not null,
    key blob,
    created_at text not null,
    erased_at text,
    events integer,
    primary key (source, recordref)
) without rowid
"""


# json_each first (CROSS JOIN keeps that order): one lookup by primary key per record asked.
SQLITE_SELECT = (
    f"select k.source, k.recordref, k.{{column}} from json_each(?) as asked cross join {TABLE} "
    "as k on k.source = asked.value ->> 0 and k.recordref = asked.value ->> 1"
)


class EmbeddedRecordKeys(RecordKeys):
    """The embedded key store: one SQLite file (`record-keys.sqlite` in the data folder), with
    secure_delete on so a deleted key's bytes are overwritten, not just unlinked."""

    def __init__(self, path: Path, busy_timeout_s: float = 30.0) -> None:
        self.path = path
        # Usable from any thread (the API); calls are serialised by the lock.
        self._db = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_s
        )
        self._lock = threading.Lock()
        self._db.execute("pragma secure_delete = on")
        self._db.execute("pragma journal_mode = wal")
        # A key must be as durable as the log entries sealed under it: synced before them.
        self._db.execute("pragma synchronous = full")
        self._db.execute(SQLITE_DDL)

    def get_or_create(self, records: Collection[Record]) -> dict[Record, bytes]:
        asked = list(dict.fromkeys(records))
        if not asked:
            return {}
        now = _text(datetime.now(UTC))
        with self._lock:
            self._db.execute("begin immediate")
            try:
                self._db.executemany(
                    f"insert or ignore into {TABLE} (source, recordref, key, created_at) "
                    "values (?, ?, ?, ?)",
                    [(source, ref, new_key(), now) for source, ref in asked],
                )
                self._db.execute("commit")
            except BaseException:
                self._db.execute("rollback")
                raise
            return self._keys(asked)

    def get(self, records: Collection[Record]) -> dict[Record, bytes]:
        asked = list(dict.fromkeys(records))
        with self._lock:
            return self._keys(asked) if asked else {}

    def _keys(self, asked: list[Record]) -> dict[Record, bytes]:
        rows = self._db.execute(SQLITE_SELECT.format(column="key"), [_json(asked)])
        return {(source, ref): key for source, ref, key in rows if key is not None}

    def lookup(self, records: Collection[Record]) -> dict[Record, datetime | None]:
        asked = _json(list(dict.fromkeys(records)))
        with self._lock:
            rows = self._db.execute(SQLITE_SELECT.format(column="erased_at"), [asked]).fetchall()
        return {(s, r): None if at is None else datetime.fromisoformat(at) for s, r, at in rows}

    def erase(self, record: Record, at: datetime, events: int) -> bool:
        with self._lock:
            done = self._db.execute(
                f"update {TABLE} set key = null, erased_at = ?, events = ? "
                "where source = ? and recordref = ? and key is not null",
                [_text(at), events, *record],
            )
            return done.rowcount == 1

    def scrub(self) -> None:
        # secure_delete zeroed the key in its page; the old page may still sit in the WAL
        # (moved into the file and the WAL emptied) and VACUUM rebuilds every page afresh.
        with self._lock:
            self._checkpoint()
            self._db.execute("vacuum")
            self._checkpoint()

    def _checkpoint(self, patience_s: float = 30.0) -> None:
        deadline = time.monotonic() + patience_s
        while True:
            busy, _, _ = self._db.execute("pragma wal_checkpoint(truncate)").fetchone()
            if not busy:
                return
            if time.monotonic() > deadline:
                raise HubError(
                    f"the key is deleted, but another process holds {self.path} open, so its "
                    "write-ahead log may still hold the old page: stop the other hub processes "
                    "and run `hub erase` for the record again to finish"
                )
            time.sleep(0.1)

    def erasures(self) -> list[ErasedRecord]:
        with self._lock:
            rows = self._db.execute(
                f"select source, recordref, events, erased_at from {TABLE} "
                "where erased_at is not null order by erased_at, source, recordref"
            ).fetchall()
        return [ErasedRecord(s, r, int(n or 0), datetime.fromisoformat(at)) for s, r, n, at in rows]

    def close(self) -> None:
        self._db.close()


def _json(records: list[Record]) -> str:
    return orjson.dumps(records).decode()


def _text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")
