"""The Kafka adapter of the event log: topic `hub.events.v1`, keyed by the person's pseudonym.

    log = KafkaLog(KafkaConnection.from_file(Path("hub.properties")))  # makes the topic if absent
    log.append([LogRecord(key=subject, value=event_bytes)])

Records go to `partition_for(key)` explicitly (the same function as the embedded log), so one
person's events stay in order on one partition whatever the client's own partitioner. The
producer waits for every in-sync replica (`acks=all`) and retries. Offsets are Kafka's own.
The gateway (`hub.gateway`) writes in transactions, so every reader here is `read_committed`:
it is given only committed records, the end it sees is the last stable offset, and the
offsets a transaction's marker or an aborted record takes are passed without an entry (`skip`,
`GroupConsumer.position`). A record's headers go with it as Kafka record headers and come back
in order (`LogRecord.headers`).

Readers join a consumer group (`consumer("hub-worker", start_of)`): Kafka shares the partitions
among the group's members, and a member newly given a partition reads it from the position its
own store says (`start_of`), never from an offset committed to Kafka. A short session timeout
(6 s) means a member that died stops holding its partitions soon after.
"""

import contextlib
import time
from collections.abc import Sequence
from typing import Any

from kafka import (
    ConsumerRebalanceListener,
    KafkaAdminClient,
    KafkaConsumer,
    KafkaProducer,
    TopicPartition,
)
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from hub.log.kafka_client import KafkaConnection
from hub.log.port import (
    DEFAULT_PARTITIONS,
    EventLog,
    LogConsumer,
    LogEntry,
    LogError,
    LogRecord,
    Revoked,
    StartOf,
    check_record,
)

TOPIC = "hub.events.v1"
DELIVERY_TIMEOUT_MS = 60_000
"""How long the producer keeps trying one batch (a broker restart takes a few seconds)."""
READ_COMMITTED = "read_committed"
"""Every reader's isolation: what an open or aborted transaction wrote is never read."""
SESSION_TIMEOUT_MS = 6000
"""The broker's smallest allowed (`group.min.session.timeout.ms`): a dead member is noticed fast."""


class KafkaLog(EventLog):
    """An `EventLog` on a Kafka topic; see the module docstring."""

    def __init__(
        self,
        connection: KafkaConnection,
        topic: str = TOPIC,
        partitions: int = DEFAULT_PARTITIONS,
        timeout_s: float = 30.0,
    ) -> None:
        self.connection, self.topic, self.partitions = connection, topic, partitions
        self.bootstrap = connection.bootstrap
        self.name = topic
        self._timeout = timeout_s
        self._closed = False
        try:
            self._ensure_topic()
            # Idempotent, retried until the delivery timeout: a broker restarting mid-append
            # delays the batch rather than failing it, and a retried send is not written twice.
            self._producer = KafkaProducer(
                **connection.options(),
                acks="all",
                enable_idempotence=True,
                delivery_timeout_ms=DELIVERY_TIMEOUT_MS,
                reconnect_backoff_max_ms=1000,
                linger_ms=5,
            )
            self._consumer = KafkaConsumer(
                **connection.options(),
                enable_auto_commit=False,
                group_id=None,
                reconnect_backoff_max_ms=1000,
                isolation_level=READ_COMMITTED,
            )
        except KafkaError as error:
            raise LogError(f"cannot reach {connection.describe()}: {error}") from error

    def _ensure_topic(self) -> None:
        admin = KafkaAdminClient(**self.connection.options())
        try:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics([NewTopic(self.topic, self.partitions, 1)])
            found = 0
            for _ in range(100):  # a new topic's metadata takes a moment to reach the broker
                found = len(admin.describe_topics([self.topic])[0]["partitions"] or [])
                if found:
                    break
                time.sleep(0.1)
            if found != self.partitions:
                raise LogError(
                    f"topic {self.topic} has {found} partitions, not {self.partitions}: "
                    f"open it with partitions={found}"
                )
        finally:
            admin.close()

    def append(self, records: Sequence[LogRecord]) -> None:
        for index, record in enumerate(records):
            check_record(index, record)  # all checked before any is sent: nothing half-sent
        try:
            futures = [
                self._producer.send(
                    self.topic,
                    key=record.key.encode(),
                    value=record.value,
                    headers=list(record.headers),
                    partition=self.partition_of(record.key),
                )
                for record in records
            ]
            patience = DELIVERY_TIMEOUT_MS / 1000 + 5
            self._producer.flush(timeout=patience)
            for future in futures:
                future.get(timeout=patience)
        except KafkaError as error:
            raise LogError(f"appending to {self.topic} failed: {error}") from error

    def read(self, partition: int, start: int, limit: int) -> list[LogEntry]:
        self.check_read(partition, start, limit)
        tp = TopicPartition(self.topic, partition)
        end = min(self._end(tp), start + limit)
        entries: list[LogEntry] = []
        if start >= end:
            return entries
        self._seek(tp, start)
        consumer = self._consumer
        deadline = time.monotonic() + self._timeout
        # Until the consumer's position passes the end: offsets a transaction marker or an
        # aborted record takes give no entry, so counting entries would never get there.
        while consumer.position(tp) < end:
            polled: dict[Any, list[Any]] = consumer.poll(
                timeout_ms=200, max_records=max(1, limit - len(entries))
            )
            entries += [_entry(partition, m) for m in polled.get(tp, []) if m.offset < end]
            if time.monotonic() > deadline:
                raise LogError(f"reading {self.topic} partition {partition} timed out")
        return entries

    def skip(self, partition: int, start: int) -> int:
        self.check_partition(partition)
        tp = TopicPartition(self.topic, partition)
        end = self._end(tp)
        if start >= end:
            return start
        self._seek(tp, start)
        consumer = self._consumer
        deadline = time.monotonic() + self._timeout
        while consumer.position(tp) < end:
            if consumer.poll(timeout_ms=200, max_records=1).get(tp):
                return start  # an entry follows: nothing to skip
            if time.monotonic() > deadline:
                raise LogError(f"reading {self.topic} partition {partition} timed out")
        return int(consumer.position(tp))

    def _seek(self, tp: TopicPartition, offset: int) -> None:
        self._consumer.assign([tp])
        self._consumer.seek(tp, offset)

    def consumer(
        self, group: str, start_of: StartOf, revoked: Revoked | None = None
    ) -> LogConsumer:
        return GroupConsumer(self, group, start_of, revoked)

    def end_offsets(self) -> dict[int, int]:
        tps = [TopicPartition(self.topic, p) for p in range(self.partitions)]
        ends = self._consumer.end_offsets(tps)
        return {tp.partition: int(ends[tp]) for tp in tps}

    def _end(self, tp: TopicPartition) -> int:
        return int(self._consumer.end_offsets([tp])[tp])

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._producer.close(timeout=self._timeout)
        self._consumer.close()


def _entry(partition: int, message: Any) -> LogEntry:
    """A consumed message as a log entry. kafka-python gives headers as a list of (str, bytes)
    pairs (None where a record has none); a null header value, which the hub never writes,
    reads as empty bytes."""
    key = message.key.decode() if message.key is not None else ""
    headers = tuple((name, value or b"") for name, value in message.headers or ())
    return LogEntry(partition, message.offset, key, message.value, headers)


class _Positions(ConsumerRebalanceListener):  # type: ignore[misc]
    """Seeks each newly assigned partition to the position the reader's store holds."""

    def __init__(self, owner: "GroupConsumer", start_of: StartOf, revoked: Revoked | None) -> None:
        self._owner, self._start_of, self._revoked = owner, start_of, revoked

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        if self._revoked is not None:
            self._revoked({tp.partition for tp in revoked})

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        for tp in assigned:
            self._owner.consumer.seek(tp, self._start_of(tp.partition))


class GroupConsumer(LogConsumer):
    """A member of a Kafka consumer group on the log's topic; see the module docstring."""

    def __init__(
        self, log: KafkaLog, group: str, start_of: StartOf, revoked: Revoked | None
    ) -> None:
        self._topic = log.topic
        try:
            self.consumer = KafkaConsumer(
                **log.connection.options(),
                group_id=group,
                enable_auto_commit=False,  # the positions that count are in the reader's store
                auto_offset_reset="earliest",
                session_timeout_ms=SESSION_TIMEOUT_MS,
                heartbeat_interval_ms=SESSION_TIMEOUT_MS // 6,
                isolation_level=READ_COMMITTED,
            )
            self.consumer.subscribe([log.topic], listener=_Positions(self, start_of, revoked))
        except KafkaError as error:
            raise LogError(f"cannot join group {group} at {log.bootstrap}: {error}") from error
        self._closed = False

    def poll(self, timeout_s: float, limit: int) -> dict[int, list[LogEntry]]:
        try:
            polled: dict[Any, list[Any]] = self.consumer.poll(
                timeout_ms=int(timeout_s * 1000), max_records=limit
            )
        except KafkaError as error:
            raise LogError(f"reading {self._topic} failed: {error}") from error
        return {
            tp.partition: [_entry(tp.partition, m) for m in messages]
            for tp, messages in polled.items()
            if messages
        }

    def seek(self, partition: int, offset: int) -> None:
        tp = TopicPartition(self._topic, partition)
        if tp in self.consumer.assignment():
            self.consumer.seek(tp, offset)

    def assigned(self) -> set[int]:
        return {tp.partition for tp in self.consumer.assignment()}

    def position(self, partition: int) -> int:
        return int(self.consumer.position(TopicPartition(self._topic, partition)))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.consumer.close(autocommit=False)
