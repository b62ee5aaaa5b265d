"""The Kafka adapter of the event log: topic `hub.events.v1`, keyed by the person's pseudonym.

    log = KafkaLog("127.0.0.1:9092")          # creates the topic (6 partitions) when absent
    log.append([LogRecord(key=subject, value=event_bytes)])

Records go to `partition_for(key)` explicitly (the same function as the embedded log), so one
person's events stay in order on one partition whatever the client's own partitioner. The
producer waits for every in-sync replica (`acks=all`) and retries. Offsets are Kafka's own,
dense from 0 (no transactions, so no control records between them).
"""

import contextlib
import time
from collections.abc import Sequence
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from hub.log.port import DEFAULT_PARTITIONS, EventLog, LogEntry, LogError, LogRecord, check_record

TOPIC = "hub.events.v1"


class KafkaLog(EventLog):
    """An `EventLog` on a Kafka topic; see the module docstring."""

    def __init__(
        self,
        bootstrap: str,
        topic: str = TOPIC,
        partitions: int = DEFAULT_PARTITIONS,
        timeout_s: float = 30.0,
    ) -> None:
        self.bootstrap, self.topic, self.partitions = bootstrap, topic, partitions
        self._timeout = timeout_s
        self._closed = False
        try:
            self._ensure_topic()
            self._producer = KafkaProducer(
                bootstrap_servers=bootstrap, acks="all", retries=10, linger_ms=5
            )
            self._consumer = KafkaConsumer(
                bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None
            )
        except KafkaError as error:
            raise LogError(f"cannot reach Kafka at {bootstrap}: {error}") from error

    def _ensure_topic(self) -> None:
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
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
                    partition=self.partition_of(record.key),
                )
                for record in records
            ]
            self._producer.flush(timeout=self._timeout)
            for future in futures:
                future.get(timeout=self._timeout)
        except KafkaError as error:
            raise LogError(f"appending to {self.topic} failed: {error}") from error

    def read(self, partition: int, start: int, limit: int) -> list[LogEntry]:
        self.check_read(partition, start, limit)
        tp = TopicPartition(self.topic, partition)
        end = min(self._end(tp), start + limit)
        if start >= end:
            return []
        self._consumer.assign([tp])
        self._consumer.seek(tp, start)
        entries: list[LogEntry] = []
        while not entries or entries[-1].offset + 1 < end:
            polled: dict[Any, list[Any]] = self._consumer.poll(
                timeout_ms=int(self._timeout * 1000), max_records=end - start - len(entries)
            )
            if not polled:
                raise LogError(f"reading {self.topic} partition {partition} timed out")
            for message in polled.get(tp, []):
                if message.offset < end:
                    key = message.key.decode() if message.key is not None else ""
                    entries.append(LogEntry(partition, message.offset, key, message.value))
        return entries

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
