"""The embedded record-key store: one SQLite file in the data folder, secure_delete on.

    keys = EmbeddedRecordKeys(settings.folder.record_keys)
    made = keys.get_or_create([(source, recordref)])  # pending until confirmed
    keys.confirm([(source, recordref)])               # an event sealed under it is in the log
    keys.sweep(datetime.now(UTC) - timedelta(hours=1))  # pending keys nobody used, deleted

A key is pending (`pending_at` holds when it was last handed out) from when `get_or_create`
makes it until `confirm`; a store made before keys could be pending gains the column on
opening, and its keys, having none, count as confirmed.
"""

import sqlite3
import threading
import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import orjson

from hub.keys.port import TABLE, ErasedRecord, Record, RecordKeys
from hub.keys.sealing import new_key
from schemas.errors import HubError

T = TypeVar("T")

SQLITE_DDL = f"""
create table if not exists {TABLE} (
    source text not null,
    recordref text not null,
    key blob,
    created_at text not null,
    erased_at text,
    events integer,
    pending_at text,
    primary key (source, recordref)
) without rowid
"""
PENDING_INDEX = (
    f"create index if not exists {TABLE}_pending on {TABLE} (pending_at) "
    "where pending_at is not null"
)


# json_each first (CROSS JOIN keeps that order): one lookup by primary key per record asked.
SQLITE_SELECT = (
    f"select k.source, k.recordref, k.{{column}} from json_each(?) as asked cross join {TABLE} "
    "as k on k.source = asked.value ->> 0 and k.recordref = asked.value ->> 1"
)
SQLITE_ASKED = "(source, recordref) in (select value ->> 0, value ->> 1 from json_each(?))"


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
        self._in_transaction(self._migrate)

    def _in_transaction(self, work: Callable[[], T]) -> T:
        self._db.execute("begin immediate")
        try:
            done = work()
            self._db.execute("commit")
        except BaseException:
            self._db.execute("rollback")
            raise
        return done

    def _migrate(self) -> None:
        # Inside `begin immediate`: two processes opening an old store add the column once.
        self._db.execute(SQLITE_DDL)
        columns = {row[1] for row in self._db.execute(f"pragma table_info({TABLE})")}
        if "pending_at" not in columns:  # a store made before keys could be pending
            self._db.execute(f"alter table {TABLE} add column pending_at text")
        self._db.execute(PENDING_INDEX)

    def get_or_create(self, records: Collection[Record]) -> dict[Record, bytes]:
        asked = list(dict.fromkeys(records))
        if not asked:
            return {}
        now = _text(datetime.now(UTC))

        def made() -> dict[Record, bytes]:
            # A pending key handed out again is in use again: a sweep must not take it now.
            self._db.execute(
                f"update {TABLE} set pending_at = ? where pending_at is not null "
                f"and key is not null and {SQLITE_ASKED}",
                [now, _json(asked)],
            )
            self._db.executemany(
                f"insert or ignore into {TABLE} (source, recordref, key, created_at, pending_at) "
                "values (?, ?, ?, ?, ?)",
                [(source, ref, new_key(), now, now) for source, ref in asked],
            )
            return self._keys(asked)

        with self._lock:
            return self._in_transaction(made)

    def confirm(self, records: Collection[Record]) -> None:
        asked = list(dict.fromkeys(records))
        if not asked:
            return
        with self._lock:
            self._db.execute(
                f"update {TABLE} set pending_at = null where pending_at is not null "
                f"and {SQLITE_ASKED}",
                [_json(asked)],
            )

    def sweep(self, made_before: datetime) -> int:
        cutoff = _text(_aware(made_before))
        with self._lock:
            done = self._db.execute(
                f"delete from {TABLE} where pending_at < ? and key is not null", [cutoff]
            )
        swept = done.rowcount
        if swept:
            self._scrub(f"{swept} pending keys are deleted", "call the key store's scrub again")
        return int(swept)

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
                f"update {TABLE} set key = null, pending_at = null, erased_at = ?, events = ? "
                "where source = ? and recordref = ? and key is not null",
                [_text(at), events, *record],
            )
            return done.rowcount == 1

    def scrub(self) -> None:
        self._scrub("the key is deleted", "run `hub erase` for the record again")

    def _scrub(self, done: str, again: str) -> None:
        # secure_delete zeroed the key in its page; the old page may still sit in the WAL
        # (moved into the file and the WAL emptied) and VACUUM rebuilds every page afresh.
        with self._lock:
            self._checkpoint(done, again)
            self._db.execute("vacuum")
            self._checkpoint(done, again)

    def _checkpoint(self, done: str, again: str, patience_s: float = 30.0) -> None:
        deadline = time.monotonic() + patience_s
        while True:
            busy, _, _ = self._db.execute("pragma wal_checkpoint(truncate)").fetchone()
            if not busy:
                return
            if time.monotonic() > deadline:
                raise HubError(
                    f"{done}, but another process holds {self.path} open, so its write-ahead "
                    f"log may still hold the old pages: stop the other hub processes and {again} "
                    "to finish"
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


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise HubError(
            "the sweep's cutoff has no time zone, so which keys are older is unclear: give an "
            "aware time such as datetime.now(UTC) - timedelta(hours=1)",
            field="made_before",
        )
    return at


def _text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")
