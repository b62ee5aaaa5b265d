"""The event-log port: append batches of keyed records; read a partition from an offset.

The model is Kafka's, so the Kafka and embedded adapters are interchangeable: a log has a fixed
number of partitions; a record's key alone decides its partition (`partition_for`), so one
person's events stay in order on one partition; within a partition, offsets increase from 0
(dense on the embedded log; on Kafka a transaction's commit marker takes an offset no reader is
given, and an aborted transaction's records are never given: `skip` passes them). The log keeps
no reader positions: a reader records, per partition, the next offset it needs (in the same
transaction as what it writes) and reads from there after a restart.

    with EmbeddedLog(Path("hub-data/log.sqlite")) as log:
        log.append([LogRecord(key=pseudonym, value=event_json, headers=headers)])  # all or none
        entries = log.read(log.partition_of(pseudonym), start=position, limit=1000)
        next_offsets = log.end_offsets()                              # {partition: offset}
"""

import time
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from schemas.errors import HubError

Headers = tuple[tuple[str, bytes], ...]


def headers_as_text(headers: Headers) -> list[tuple[str, str]]:
    """Headers for a JSON document: each value as Latin-1 text (every byte one code point, so
    `headers_from_text` gives the very bytes back)."""
    return [(name, value.decode("latin-1")) for name, value in headers]


def headers_from_text(pairs: object) -> Headers:
    """`headers_as_text` undone; anything but a list of pairs gives no headers."""
    if not isinstance(pairs, list):
        return ()
    return tuple((str(name), str(value).encode("latin-1")) for name, value in pairs)


"""A record's headers, as Kafka's: (name, value) pairs in order; a name may repeat."""

DEFAULT_PARTITIONS = 6
"""Partitions of `hub.events.v1`; the embedded log uses the same count by default."""


class LogError(HubError):
    """An append or read the event log refused; the message names the record or partition."""

    status = 503  # briefly unavailable: try again (HttpPublisher does)
    field = "log"


@dataclass(frozen=True, slots=True)
class LogRecord:
    """What is appended: an event's bytes under its partition key (the person's pseudonym),
    with its headers (the CloudEvents binding's: `schemas.kafka_binding`)."""

    key: str
    value: bytes
    headers: Headers = ()


@dataclass(frozen=True, slots=True)
class LogEntry:
    """What is read: a record and its place in the log (partition, offset: increasing from 0)."""

    partition: int
    offset: int
    key: str
    value: bytes
    headers: Headers = ()


def partition_for(key: str, partitions: int) -> int:
    """The partition of `key`: CRC-32 of its UTF-8 bytes, modulo the partition count.

    A function of the key alone, the same in every process and after every restart (unlike
    `hash`, which is salted per process). It is also what librdkafka's default partitioner
    (`consistent_random`) computes for a keyed message, so a Kafka producer agrees with it.

        >>> partition_for("0" * 64, 6)
        3
    """
    return zlib.crc32(key.encode("utf-8")) % partitions


def check_record(index: int, record: LogRecord) -> None:
    """Refuse a record whose key is not non-empty text, whose value is not bytes, or whose
    headers are not a tuple of (text, bytes) pairs.

    The message names the record's place in its batch and the wrong type, never its content.
    """
    key, value = record.key, record.value
    if type(key) is not str or not key:
        kind = "an empty key" if key == "" else f"a key of type {type(key).__name__}"
        raise LogError(
            f"record {index} of the batch has {kind}: a key must be the person's pseudonym "
            "(text); nothing of this batch was appended"
        )
    if type(value) is not bytes:
        raise LogError(
            f"record {index} of the batch has a value of type {type(value).__name__}: a value "
            "must be the event's bytes (encode the JSON); nothing of this batch was appended"
        )
    headers = record.headers
    if type(headers) is not tuple or not all(
        type(h) is tuple and len(h) == 2 and type(h[0]) is str and type(h[1]) is bytes
        for h in headers
    ):
        raise LogError(
            f"record {index} of the batch has headers that are not a tuple of (name, bytes) "
            "pairs: give each header's name as text and its value as bytes; nothing of this "
            "batch was appended"
        )


StartOf = Callable[[int], int]
"""Given a partition newly assigned to a reader, the offset it must read from (its position)."""
Revoked = Callable[[set[int]], None]
"""Told which partitions a reader has lost (another member of its group now reads them)."""


class LogConsumer(ABC):
    """A member of a reader group: it is assigned some of the log's partitions and polls them.

    Positions are the reader's own (kept in its store): on each assignment the consumer asks
    `start_of(partition)` and reads from there; it keeps no position of its own that counts.
    """

    @abstractmethod
    def poll(self, timeout_s: float, limit: int) -> dict[int, list[LogEntry]]:
        """The next entries of assigned partitions (up to `limit` in all), by partition;
        waits up to `timeout_s` for some; an empty dict if none came."""

    @abstractmethod
    def seek(self, partition: int, offset: int) -> None:
        """Read `partition` from `offset` next (after a failed write, to read it again)."""

    @abstractmethod
    def assigned(self) -> set[int]:
        """The partitions this member reads now."""

    @abstractmethod
    def position(self, partition: int) -> int:
        """The offset this member reads `partition` from next: after the last entry it gave,
        or past what only a reader never sees (Kafka's transaction markers, aborted records)
        once it has read past them. Entries it gives always follow on from here."""

    @abstractmethod
    def close(self) -> None:
        """Leave the group; closing twice is harmless."""


class SoleConsumer(LogConsumer):
    """The consumer of a log read by one reader alone: every partition, positions in memory.

    The embedded log's consumer (one process owns the data folder); any `EventLog` can use it.
    """

    def __init__(self, log: "EventLog", start_of: StartOf) -> None:
        self._log = log
        self._next = {p: start_of(p) for p in range(log.partitions)}

    def poll(self, timeout_s: float, limit: int) -> dict[int, list[LogEntry]]:
        deadline = time.monotonic() + timeout_s
        while True:
            polled: dict[int, list[LogEntry]] = {}
            for partition, start in self._next.items():
                entries = self._log.read(partition, start, limit)
                if entries:
                    polled[partition] = entries
                    self._next[partition] = entries[-1].offset + 1
                    limit -= len(entries)
                if limit <= 0:
                    break
            if polled or time.monotonic() >= deadline:
                return polled
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def seek(self, partition: int, offset: int) -> None:
        self._log.check_partition(partition)
        self._next[partition] = offset

    def assigned(self) -> set[int]:
        return set(self._next)

    def position(self, partition: int) -> int:
        return self._next[partition]

    def close(self) -> None:
        pass


class EventLog(ABC):
    """A partitioned, append-only log of keyed records (Kafka's model)."""

    partitions: int
    """How many partitions the log has; fixed when the log is created."""
    name: str = "hub.events.v1"
    """The log's name (the Kafka topic); readers track their positions under it."""

    @abstractmethod
    def append(self, records: Sequence[LogRecord]) -> None:
        """Append `records` all or nothing, each to its key's partition, in the order given.

        Raises LogError (and appends nothing) if any record is refused or the write fails.
        An empty batch is a no-op.
        """

    @abstractmethod
    def read(self, partition: int, start: int, limit: int) -> list[LogEntry]:
        """Up to `limit` entries of `partition` with offsets from `start`, in offset order."""

    @abstractmethod
    def end_offsets(self) -> dict[int, int]:
        """The next offset of every partition (0 for an empty one): where appends will go."""

    @abstractmethod
    def close(self) -> None:
        """Release the log's resources; closing twice is harmless."""

    def consumer(
        self, group: str, start_of: StartOf, revoked: Revoked | None = None
    ) -> LogConsumer:
        """Join the reader group `group`; this default reads every partition alone."""
        return SoleConsumer(self, start_of)

    def skip(self, partition: int, start: int) -> int:
        """Where a reader at `start` of `partition` stands once past what no reader is given
        (Kafka's transaction markers and aborted records): `start` if an entry follows (or
        nothing does), else the offset after them. This default is for a log without them."""
        self.check_partition(partition)
        return start

    def scan(self, partition: int, page: int = 1000) -> Iterator[LogEntry]:
        """Every entry of `partition` there now, in offset order, read a page at a time."""
        start, end = 0, self.end_offsets()[partition]
        while start < end:
            entries = self.read(partition, start, page)
            if not entries:
                return
            yield from entries
            start = entries[-1].offset + 1

    def partition_of(self, key: str) -> int:
        """The partition this log puts `key` on."""
        return partition_for(key, self.partitions)

    def check_partition(self, partition: int) -> None:
        """Refuse a partition number this log does not have."""
        if not 0 <= partition < self.partitions:
            raise LogError(
                f"partition {partition} is not in this log: it has partitions "
                f"0 to {self.partitions - 1}"
            )

    def check_read(self, partition: int, start: int, limit: int) -> None:
        """Refuse a read of a partition the log lacks, or from a negative offset or limit."""
        self.check_partition(partition)
        if start < 0 or limit < 0:
            raise LogError(
                f"cannot read partition {partition} from offset {start} with limit {limit}: "
                "both must be 0 or more"
            )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
