"""The record-key port: one key per record, forgotten for good on erasure (`hub.keys.sealing`
says why); its adapters are `hub.keys.sqlite` and `hub.keys.postgres`."""

from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

Record = tuple[str, str]
"""A record: its agency's `source` and its hub-stage `recordref`."""
TABLE = "hub_record_keys"
"""The key store's table (in the SQLite file, or in the PostgreSQL store's schema)."""


@dataclass(frozen=True)
class ErasedRecord:
    """An erasure as the key store keeps it: which record, when, how many stored events."""

    source: str
    recordref: str
    events: int
    erased_at: datetime


class RecordKeys(ABC):
    """The port that keeps one key per record, and forgets it for good on erasure."""

    @abstractmethod
    def get_or_create(self, records: Collection[Record]) -> dict[Record, bytes]:
        """The key of each record, made where it has none yet (one write and one read for
        the lot; two processes making the same record's key get the same one). An erased
        record is left out: it stays erased. A key made here is pending (see `confirm`) as of
        now, and so is a pending one handed out again: a sweep must not take a key that a
        batch being prepared has just been given."""

    @abstractmethod
    def confirm(self, records: Collection[Record]) -> None:
        """Mark the keys of `records` in use: an event sealed under each is safely in the log.
        A key `get_or_create` made stays pending until then; an unknown, erased or already
        confirmed record is left as it is."""

    @abstractmethod
    def sweep(self, made_before: datetime) -> int:
        """Delete every key still pending that was made (or last handed out by
        `get_or_create`) before `made_before`, an aware time: no event in the log uses it,
        the caller has made sure. Return how many. No erasure is kept: nothing was ever
        sealed under them; the store is scrubbed of their bytes."""

    @abstractmethod
    def get(self, records: Collection[Record]) -> dict[Record, bytes]:
        """The keys of those `records` that have one (unknown and erased ones left out)."""

    @abstractmethod
    def lookup(self, records: Collection[Record]) -> dict[Record, datetime | None]:
        """Each known record with its erasure time (None while its key exists)."""

    @abstractmethod
    def erase(self, record: Record, at: datetime, events: int) -> bool:
        """Delete the record's key and keep the erasure (no payload) in its place; False if
        it had no key (unknown, or erased already). Call `scrub` after."""

    @abstractmethod
    def scrub(self) -> None:
        """Rewrite the store so no deleted key's bytes remain in it (free pages, logs)."""

    @abstractmethod
    def erasures(self) -> list[ErasedRecord]:
        """Every erasure made, oldest first."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""
