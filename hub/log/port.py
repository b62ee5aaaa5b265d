"""The event-log port: append batches of keyed records; read a partition from an offset.

The model is Kafka's, so the Kafka and embedded adapters are interchangeable: a log has a fixed
number of partitions; a record's key alone decides its partition (`partition_for`), so one
person's events stay in order on one partition; within a partition, offsets are dense from 0.
The log keeps no reader positions: a reader records, per partition, the next offset it needs
(in the same transaction as what it writes) and reads from there after a restart.

    with EmbeddedLog(Path("hub-data/log.sqlite")) as log:
        log.append([LogRecord(key=pseudonym, value=event_json)])   # all or nothing
        entries = log.read(log.partition_of(pseudonym), start=position, limit=1000)
        next_offsets = log.end_offsets()                              # {partition: offset}
"""

import zlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from schemas.errors import HubError

DEFAULT_PARTITIONS = 6
"""Partitions of `hub.events.v1`; the embedded log uses the same count by default."""


class LogError(HubError):
    """An append or read the event log refused; the message names the record or partition."""


@dataclass(frozen=True, slots=True)
class LogRecord:
    """What is appended: an event's bytes under its partition key (the person's pseudonym)."""

    key: str
    value: bytes


@dataclass(frozen=True, slots=True)
class LogEntry:
    """What is read: a record and its place in the log (partition, dense offset from 0)."""

    partition: int
    offset: int
    key: str
    value: bytes


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
    """Refuse a record whose key is not non-empty text or whose value is not bytes.

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


class EventLog(ABC):
    """A partitioned, append-only log of keyed records (Kafka's model)."""

    partitions: int
    """How many partitions the log has; fixed when the log is created."""

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
