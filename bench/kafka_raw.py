"""Raw kafka-python beside the hub, on the same secured broker, with the same records.

    messages = agency_messages(place_dir, key_file, ["police-north"])  # as `hub publish` sends
    raw = raw_kafka(bootstrap, topic, place_dir, key_file, streams)    # produce, then consume
    plain, txn = consume_transform_produce(bootstrap, topic, n, names)  # without, with transactions

Each part runs in a process of its own (spawned: no fork of a process with Kafka's threads), as
the hub's publishers, gateway and worker do, and reports its own CPU time and what of it went
into the SSL socket (`bench.kafka_tls`). Every client is the hub principal's, SASL_SSL with
SCRAM, from the hub's client configuration (KAFKA_CLIENT_CONFIG).
"""

import multiprocessing
import multiprocessing.synchronize
import queue
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from bench.kafka_env import check_stop, kafka_connection
from bench.kafka_tls import SslMeter, SslShare
from connectors.csv_connector import CsvConnector
from connectors.mapping import load_mapping
from connectors.pseudonym import load_pseudonymiser
from hub.gateway.gateway import BATCH_BYTES, LINGER_MS
from hub.log import DEFAULT_PARTITIONS
from hub.log.inbound import DELIVERY_TIMEOUT_MS
from hub.log.kafka import KafkaLog
from schemas.kafka_binding import to_binary
from schemas.place import load_place

Message = tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]
GATEWAY_BATCH = 2000
"""The gateway's batch: `Gateway(batch_size=2000)`, one transaction per poll of that many."""
CONTEXT = multiprocessing.get_context("spawn")


def agency_messages(place_dir: Path, key_file: Path, agencies: Sequence[str]) -> list[Message]:
    """The agencies' extracts through their connectors, each event in binary content mode
    (`to_binary`), exactly as `hub publish` puts them on the inbound topics."""
    place = load_place(place_dir / "place.toml")
    pseudonymiser = load_pseudonymiser(key_file)
    found: list[Message] = []
    for slug in agencies:
        mapping = load_mapping(place_dir / "mappings" / f"{slug}.toml", place)
        connector = CsvConnector(mapping, place, pseudonymiser)
        for batch in connector.read(place_dir / "extracts" / f"{slug}.csv"):
            for event in batch.events:
                m = to_binary(event)
                key = m.key.encode() if m.key is not None else None
                found.append((key, m.value, list(m.headers)))
    return found


def size_of(message: Message) -> int:
    key, value, headers = message
    return len(key or b"") + len(value or b"") + sum(len(k) + len(v) for k, v in headers)


@dataclass
class Part:
    """What one process measured."""

    count: int = 0
    size: int = 0
    began: float = 0.0
    ended: float = 0.0
    ssl: SslShare | None = None

    @property
    def rate(self) -> float:
        return self.count / (self.ended - self.began)


@dataclass
class Raw:
    """The raw produce (from as many processes as the hub's publisher streams) and consume."""

    producers: list[Part] = field(default_factory=list)
    consumer: Part = field(default_factory=Part)

    @property
    def events(self) -> int:
        return sum(p.count for p in self.producers)

    @property
    def produce_seconds(self) -> float:
        return max(p.ended for p in self.producers) - min(p.began for p in self.producers)

    @property
    def consume_seconds(self) -> float:
        return self.consumer.ended - self.consumer.began

    def rates(self) -> tuple[float, float, float]:
        """Produce rate, consume rate, and events / (produce time + consume time)."""
        n, produce, consume = self.events, self.produce_seconds, self.consume_seconds
        return n / produce, n / consume, n / (produce + consume)


def _child(target: Callable[..., Part], out: Any, *args: Any) -> None:
    try:
        out.put(("ok", target(*args)))
    except BaseException:
        out.put(("error", traceback.format_exc()))
        raise


def _run(parts: list[tuple[Callable[..., Part], tuple[Any, ...]]], go: Any = None) -> list[Part]:
    """Each (target, args) in a process of its own, `go` set once all are ready (each sets its
    `ready` event, the args' first); their Parts in order."""
    outs = [CONTEXT.Queue() for _ in parts]
    processes = [
        CONTEXT.Process(target=_child, args=(target, out, *args), daemon=True)
        for (target, args), out in zip(parts, outs, strict=True)
    ]
    for process in processes:
        process.start()
    try:
        if go is not None:
            for _, args in parts:
                while not args[0].wait(0.2):
                    check_stop()
                    _check_alive(processes, outs)
            go.set()
        results = []
        for process, out in zip(processes, outs, strict=True):
            while True:
                check_stop()
                try:
                    kind, value = out.get(timeout=0.2)
                    break
                except queue.Empty:
                    if not process.is_alive() and out.empty():
                        raise RuntimeError(
                            f"{process.name} exited with {process.exitcode}"
                        ) from None
            if kind == "error":
                raise RuntimeError(f"a raw Kafka process failed:\n{value}")
            results.append(value)
        return results
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
                process.join()


def _check_alive(processes: list[Any], outs: list[Any]) -> None:
    for process, out in zip(processes, outs, strict=True):
        if not process.is_alive():
            said = out.get(timeout=5)[1] if not out.empty() else f"exit code {process.exitcode}"
            raise RuntimeError(f"a raw Kafka process failed before it was ready:\n{said}")


def produce_part(
    ready: multiprocessing.synchronize.Event,
    go: multiprocessing.synchronize.Event,
    bootstrap: str,
    topic: str,
    place_dir: Path,
    key_file: Path,
    agencies: list[str],
) -> Part:
    """One producer process: the agencies' messages made (not timed), then sent with the
    agency publisher's settings (`InboundPublisher`: acks=all, idempotent, linger 5 ms, the
    client's partitioner by key) and flushed once at the end."""
    messages = agency_messages(place_dir, key_file, agencies)
    meter = SslMeter()
    meter.install()
    producer = KafkaProducer(
        **kafka_connection(bootstrap).options(),
        acks="all",
        enable_idempotence=True,
        delivery_timeout_ms=DELIVERY_TIMEOUT_MS,
        linger_ms=5,
    )
    failed: list[BaseException] = []
    try:
        producer.partitions_for(topic)  # connected and the metadata there before the clock
        ready.set()
        go.wait()
        meter.reset()
        cpu, began = time.process_time(), time.monotonic()
        for key, value, headers in messages:
            producer.send(topic, key=key, value=value, headers=headers).add_errback(failed.append)
        producer.flush()
        ended, cpu = time.monotonic(), time.process_time() - cpu
    finally:
        producer.close()
    if failed:
        raise RuntimeError(f"raw produce: {len(failed):,} sends failed, first: {failed[0]}")
    size = sum(size_of(m) for m in messages)
    return Part(len(messages), size, began, ended, meter.report(cpu))


def consume_part(bootstrap: str, topic: str, n: int) -> Part:
    """One consumer process: `n` messages from the topic's start, every partition assigned."""
    meter = SslMeter()
    meter.install()
    consumer = KafkaConsumer(
        **kafka_connection(bootstrap).options(), group_id=None, enable_auto_commit=False
    )
    try:
        tps = [TopicPartition(topic, p) for p in range(DEFAULT_PARTITIONS)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        consumer.topics()  # connected before the clock
        meter.reset()
        cpu, began = time.process_time(), time.monotonic()
        got = size = 0
        while got < n:
            check_stop()
            polled = consumer.poll(timeout_ms=30_000, max_records=1000)
            if not polled:
                raise RuntimeError(f"raw consume: nothing came for 30 s after {got:,} messages")
            for messages in polled.values():
                got += len(messages)
                size += sum(m.serialized_key_size + m.serialized_value_size for m in messages)
        ended, cpu = time.monotonic(), time.process_time() - cpu
    finally:
        consumer.close()
    return Part(got, size, began, ended, meter.report(cpu))


def raw_kafka(
    bootstrap: str, topic: str, place_dir: Path, key_file: Path, streams: list[list[str]]
) -> Raw:
    """Produce every stream's messages to a fresh topic from one process a stream at once,
    timed from the first send to the last flush; then consume them all in one process."""
    KafkaLog(kafka_connection(bootstrap), topic, DEFAULT_PARTITIONS).close()  # a fresh topic
    go = CONTEXT.Event()
    parts = [
        (produce_part, (CONTEXT.Event(), go, bootstrap, topic, place_dir, key_file, agencies))
        for agencies in streams
    ]
    raw = Raw(producers=_run(parts, go))
    raw.consumer = _run([(consume_part, (bootstrap, topic, raw.events))])[0]
    return raw


def transform_part(bootstrap: str, source: str, target: str, group: str, n: int, txn: str) -> Part:
    """A consume-transform-produce loop over `n` messages of `source` (the transform: none, each
    copied as it is, to its partition of `target`), batches of the gateway's size and its
    producer's settings. With a transactional id (`txn`), each batch is one transaction:
    begin, the sends, `send_offsets_to_transaction` with the group's metadata, commit. Without,
    each batch is sent, flushed, and its offsets committed (`consumer.commit`)."""
    options = kafka_connection(bootstrap).options()
    transactional = {"transactional_id": txn} if txn else {}
    producer = KafkaProducer(
        **options,
        **transactional,
        acks="all",
        enable_idempotence=True,
        linger_ms=LINGER_MS,
        batch_size=BATCH_BYTES,
    )
    consumer = KafkaConsumer(
        **options,
        group_id=group,
        isolation_level="read_committed",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=GATEWAY_BATCH,
    )
    try:
        if txn:
            producer.init_transactions()
        producer.partitions_for(target)
        consumer.subscribe([source])
        got, began, ended, cpu = 0, 0.0, 0.0, 0.0
        while got < n:
            check_stop()
            polled = consumer.poll(timeout_ms=1000, max_records=GATEWAY_BATCH)
            polled = {tp: ms for tp, ms in polled.items() if ms}
            if not polled:
                if got and time.monotonic() - ended > 30:
                    raise RuntimeError(f"transform: nothing came for 30 s after {got:,}")
                continue
            if not got:  # the clock starts at the first batch (the group's join before it)
                cpu, began = time.process_time(), time.monotonic()
            if txn:
                producer.begin_transaction()
            for tp, messages in polled.items():
                for m in messages:
                    producer.send(
                        target, key=m.key, value=m.value, headers=m.headers, partition=tp.partition
                    )
                got += len(messages)
            offsets = {
                tp: OffsetAndMetadata(ms[-1].offset + 1, "", -1) for tp, ms in polled.items()
            }
            if txn:
                producer.send_offsets_to_transaction(offsets, consumer.group_metadata())
                producer.commit_transaction()
            else:
                producer.flush()
                consumer.commit(offsets)
            ended = time.monotonic()
        cpu = time.process_time() - cpu
    finally:
        consumer.close()
        producer.close()
    return Part(got, 0, began, ended, SslShare(cpu, 0.0, 0.0, []))


def consume_transform_produce(
    bootstrap: str, source: str, n: int, names: dict[str, str]
) -> tuple[Part, Part]:
    """The loop of `transform_part` without transactions, then with (fresh targets and groups)."""
    found = []
    for label, txn in (("plain", ""), ("txn", names["txn_id"])):
        target = names[f"{label}_topic"]
        KafkaLog(kafka_connection(bootstrap), target, DEFAULT_PARTITIONS).close()
        args = (bootstrap, source, target, names[f"{label}_group"], n, txn)
        found.append(_run([(transform_part, args)])[0])
    return found[0], found[1]
