"""CloudEvents on the wire of the secured broker: Kafka's own ConsoleProducer, with an enrolled
agency's Java configuration, writes one binary-mode and one structured-mode record to its
inbound topic and the hub's binding reads both as the event sent; ConsoleConsumer as the agency
reads its receipts topic; librdkafka (confluent-kafka) publishes with the agency's other file;
and every record the hub appends to its own log decodes, with a
decoder written from the binding's text, as the CloudEvent of the entry it carries."""

import uuid
from collections.abc import Callable
from typing import Any

import javaproperties
import orjson

from hub.bootstrap import open_hub
from hub.log import DEFAULT_PARTITIONS, partition_for
from hub.log.kafka import KafkaLog
from hub.log.receipts import ReceiptReader
from hub.settings import Settings, inbound_topic, receipts_topic
from schemas.events import AgencyEventAdapter
from schemas.kafka_binding import decode, to_binary, to_structured
from tests.cloudevents_spec import spec_decode
from tests.integration.kafka_principals import CONSUMER, PRODUCER, A, B, Enrolled, console, said

PERSON, RECORD = "ab" * 32, "cd" * 32


def contact(version: int) -> dict[str, Any]:
    """A valid agency event of A's (a contact), as its connector would send it."""
    return {
        "specversion": "1.0",
        "id": f"{RECORD}-v{version}",
        "source": f"urn:agency:{A}",
        "type": "hub.contact.recorded.v1",
        "time": "2024-03-05T14:30:00Z",
        "subject": PERSON,
        "datacontenttype": "application/json",
        "locality": "ashfield",
        "keyversion": 1,
        "recordref": RECORD,
        "recordversion": version,
        "data": {"channel": "phone", "purpose": "welfare-check", "need": "housing"},
    }


def console_line(headers: tuple[tuple[str, bytes], ...], key: str | None, value: bytes) -> str:
    """One input line of ConsoleProducer with parse.headers and parse.key: headers `k:v` joined
    by `,` (the first `:` splits each, so values may hold more), a tab, the key, a tab, the value."""
    shown = ",".join(f"{name}:{raw.decode()}" for name, raw in headers)
    assert "\t" not in shown
    assert "," not in "".join(raw.decode() for _, raw in headers)
    return f"{shown}\t{key or ''}\t{value.decode()}"


def test_kafkas_console_producer_writes_binary_and_structured_records(
    enrolled: Enrolled,
) -> None:
    sent = [contact(1), contact(2)]
    binary, structured = to_binary(sent[0]), to_structured(sent[1])
    assert binary.value is not None
    assert structured.value is not None
    with KafkaLog(enrolled.kafka.connection, inbound_topic(A)) as inbound:
        partition = inbound.partition_of(PERSON)
        start = inbound.end_offsets()[partition]
        feed = "\n".join(
            console_line(m.headers, m.key, value)
            for m, value in ((binary, binary.value), (structured, structured.value))
        )
        done = console(
            enrolled.kafka,
            PRODUCER,
            "--bootstrap-server",
            enrolled.kafka.bootstrap,
            "--producer.config",
            str(enrolled.java(A)),
            "--topic",
            inbound_topic(A),
            "--property",
            "parse.headers=true",
            "--property",
            "parse.key=true",
            feed=feed + "\n",
        )
        assert done.returncode == 0, said(done)[-2000:]
        assert "Exception" not in said(done), said(done)[-2000:]
        # The console producer's partitioner (murmur2) is not the hub's (CRC-32), so look in all.
        entries = [
            e
            for p in range(inbound.partitions)
            for e in inbound.read(p, start if p == partition else 0, 1000)
            if e.key == PERSON
        ]
    got = [decode(e.headers, e.value, e.key) for e in entries[-2:]]
    assert [len(events) for events in got] == [1, 1]
    modes = [dict((n.lower(), v) for n, v in e.headers).get("content-type") for e in entries[-2:]]
    assert modes == [b"application/json", b"application/cloudevents+json; charset=UTF-8"]
    for events, event in zip(got, sent, strict=True):
        assert events[0] == event
        AgencyEventAdapter.validate_python(events[0])  # the contract's own model takes it


def test_kafkas_console_consumer_reads_the_agencys_receipts(enrolled: Enrolled) -> None:
    # Committed receipts only: the gateway writes them in transactions, whose markers take
    # offsets of their own, so the topic's end offset is more than its receipts.
    with ReceiptReader(enrolled.kafka.connection, A) as reader:
        there = sum(1 for _ in reader.read(0)) + len(reader.unreadable)
    # A new group each run: it starts at the beginning.
    read = console(
        enrolled.kafka,
        CONSUMER,
        "--bootstrap-server",
        enrolled.kafka.bootstrap,
        "--consumer.config",
        str(enrolled.java(A)),
        "--topic",
        receipts_topic(A),
        "--group",
        f"{A}.receipts-{uuid.uuid4().hex[:8]}",
        "--from-beginning",
        "--isolation-level",
        "read_committed",
        "--timeout-ms",
        "8000",
    )
    assert f"Processed a total of {there} messages" in said(read), said(read)[-2000:]
    assert "AuthorizationException" not in said(read)


def test_the_hubs_own_log_records_carry_the_bindings_headers(
    settings_for: Callable[[str, str], Settings],
) -> None:
    settings = settings_for("kafka", "sqlite")
    events = [contact(1), contact(2) | {"subject": "ef" * 32, "recordref": "12" * 32}]
    events[1]["id"] = f"{events[1]['recordref']}-v2"
    with open_hub(settings) as hub:
        outcomes = hub.ingest.submit(A, events)
        assert [o.status for o in outcomes] == ["accepted", "accepted"]
        log = hub.log
        entries = [e for p in range(log.partitions) for e in log.scan(p)]
    assert len(entries) == 2
    for entry in entries:
        event = spec_decode(entry)  # the binding's text, not the hub's decoder
        value = orjson.loads(entry.value)
        assert event["datacontenttype"] == "application/json"
        assert event["data"] == value
        for name in ("id", "source", "type", "subject", "time", "recordref"):
            assert event[name] == value[name], name
        assert entry.key == value["subject"]
        assert decode(entry.headers, entry.value, entry.key)[0]["id"] == value["id"]


def test_a_librdkafka_client_publishes_with_the_agencys_own_file(enrolled: Enrolled) -> None:
    """librdkafka (confluent-kafka), with nothing but `<agency>.librdkafka.properties`, writes a
    binary-mode event to the agency's inbound topic, on the partition the hub's own
    `partition_for` gives its key (librdkafka's default partitioner is CRC-32 too), and is
    refused another agency's topic with Kafka's own authorization error."""
    from confluent_kafka import KafkaError as RdKafkaError
    from confluent_kafka import Producer

    path = enrolled.folder / f"{A}.librdkafka.properties"
    with path.open(encoding="utf-8") as handle:
        config = dict(javaproperties.load(handle))
    message = to_binary(contact(3))
    assert message.key is not None
    delivered: list[tuple[str, int, Any]] = []
    producer = Producer(config)
    for topic in (inbound_topic(A), inbound_topic(B)):
        producer.produce(
            topic,
            key=message.key.encode(),
            value=message.value,
            headers=list(message.headers),
            on_delivery=lambda error, m: delivered.append((m.topic(), m.partition(), error)),
        )
    assert producer.flush(30) == 0
    outcome = {topic: (partition, error) for topic, partition, error in delivered}
    partition, error = outcome[inbound_topic(A)]
    assert error is None
    assert partition == partition_for(message.key, DEFAULT_PARTITIONS)
    assert outcome[inbound_topic(B)][1].code() == RdKafkaError.TOPIC_AUTHORIZATION_FAILED
    with KafkaLog(enrolled.kafka.connection, inbound_topic(A)) as inbound:
        end = inbound.end_offsets()[partition]
        entry = inbound.read(partition, end - 1, 1)[0]
    assert decode(entry.headers, entry.value, entry.key) == [contact(3)]
