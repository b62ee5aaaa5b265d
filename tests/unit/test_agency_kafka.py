"""The agency's side of the broker, on fake kafka-python clients: its events go to its own
inbound topic in binary content mode, idempotently, flushed per batch; its receipts are read
read_committed from an offset to the end as it was, or until every event sent is answered; a
refusal says whose configuration it may be, and never an event's content."""

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from kafka import TopicPartition
from kafka.errors import KafkaError, KafkaTimeoutError, TopicAuthorizationFailedError

from connectors.publish import AgencyRun
from hub.log.inbound import InboundPublisher
from hub.log.kafka_client import KafkaConnection
from hub.log.port import LogError
from hub.log.receipts import ReceiptReader
from schemas.kafka_binding import decode
from schemas.receipt import Receipt
from schemas.submission import Outcome

AGENCY = "police-north"
SUBJECT = "a1" * 32
CONNECTION = KafkaConnection(
    "127.0.0.1:9093", "SASL_PLAINTEXT", "SCRAM-SHA-512", AGENCY, "not-the-password"
)


def event(n: int, subject: str = SUBJECT) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"evt-{n}",
        "source": f"urn:agency:{AGENCY}",
        "type": "hub.contact.recorded.v1",
        "subject": subject,
        "time": "2024-03-05T14:30:00Z",
        "recordref": "b2" * 32,
        "recordversion": 1,
        "data": {"channel": "phone", "need": "housing", "purpose": "welfare-check"},
    }


class FakeFuture:
    def __init__(self, error: KafkaError | None) -> None:
        self.error = error

    def get(self, timeout: float) -> None:
        if self.error is not None:
            raise self.error


class FakeProducer:
    """kafka-python's KafkaProducer as the publisher uses it."""

    made: list["FakeProducer"] = []

    def __init__(self, **config: Any) -> None:
        self.config = config
        self.sent: list[tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]] = []
        self.flushes = 0
        self.closed = 0
        self.refuse_send: KafkaError | None = None
        self.fail_delivery: KafkaError | None = None
        FakeProducer.made.append(self)

    def send(
        self, topic: str, key: bytes | None, value: bytes | None, headers: list[Any]
    ) -> FakeFuture:
        if self.refuse_send is not None:
            raise self.refuse_send
        self.sent.append((topic, key, value, headers))
        return FakeFuture(self.fail_delivery)

    def flush(self, timeout: float) -> None:
        self.flushes += 1

    def close(self, timeout: float) -> None:
        self.closed += 1


def refusing(error: KafkaError) -> Callable[..., Any]:
    def make(**config: Any) -> Any:
        raise error

    return make


def test_each_event_goes_to_its_agencys_inbound_topic_in_binary_mode_keyed_by_subject() -> None:
    with InboundPublisher(CONNECTION, AGENCY, make_producer=FakeProducer) as publisher:
        publisher.send([event(1), event(2, "c3" * 32)])
        publisher.send([event(3)])
        producer = FakeProducer.made[-1]
    config = producer.config
    assert (config["acks"], config["enable_idempotence"]) == ("all", True)
    assert config["delivery_timeout_ms"] >= 30_000
    assert config["sasl_plain_username"] == AGENCY  # the agency's own principal
    assert producer.flushes == 2  # once a batch
    assert producer.closed == 1
    assert publisher.sent == 3
    assert {topic for topic, *_ in producer.sent} == {"hub.inbound.police-north.v1"}
    assert [key for _, key, _, _ in producer.sent] == [
        SUBJECT.encode(),
        ("c3" * 32).encode(),
        SUBJECT.encode(),
    ]
    _, _, value, headers = producer.sent[0]
    names = [name for name, _ in headers]
    assert {"ce_id", "ce_subject", "ce_recordversion", "content-type"} <= set(names)
    assert "ce_data" not in names
    assert orjson.loads(value or b"") == event(1)["data"]
    [back] = decode(headers, value)
    assert back == event(1) | {"datacontenttype": "application/json"}


def test_a_topic_the_principal_may_not_write_is_refused_naming_it_and_no_event() -> None:
    with InboundPublisher(CONNECTION, AGENCY, make_producer=FakeProducer) as publisher:
        FakeProducer.made[-1].refuse_send = TopicAuthorizationFailedError("hub.inbound...")
        with pytest.raises(LogError) as refused:
            publisher.send([event(1)])
    message = str(refused.value)
    assert (
        "this client configuration's principal (police-north) may not write "
        "hub.inbound.police-north.v1: is it agency police-north's?"
    ) in message
    assert SUBJECT not in message
    assert "evt-1" not in message
    assert publisher.sent == 0


def test_a_delivery_that_fails_is_an_error_naming_the_topic_and_its_cause() -> None:
    with InboundPublisher(CONNECTION, AGENCY, make_producer=FakeProducer) as publisher:
        FakeProducer.made[-1].fail_delivery = KafkaTimeoutError("expired after 60000 ms")
        with pytest.raises(
            LogError, match=r"could not write hub\.inbound\.police-north\.v1: Kafka"
        ):
            publisher.send([event(1)])


def test_a_login_the_broker_refused_is_said_as_one_of_two_causes() -> None:
    timed_out = KafkaTimeoutError("Unable to bootstrap from 127.0.0.1:9093")
    with pytest.raises(LogError) as refused:
        InboundPublisher(CONNECTION, AGENCY, make_producer=refusing(timed_out))
    message = str(refused.value)
    assert "refused this client configuration's login, or cannot be reached" in message
    assert "is it agency police-north's, with its current password?" in message
    assert "not-the-password" not in message


def test_an_event_the_binding_cannot_map_sends_nothing_of_its_batch() -> None:
    bad = event(2) | {"extra": object()}
    with InboundPublisher(CONNECTION, AGENCY, make_producer=FakeProducer) as publisher:
        with pytest.raises(Exception, match="attribute extra must be"):
            publisher.send([event(1), bad])
        assert FakeProducer.made[-1].sent == []
        publisher.close()  # closing twice is harmless
    assert FakeProducer.made[-1].closed == 1


def receipt(n: int, status: str = "accepted") -> bytes:
    answer = Receipt(
        id=f"evt-{n}",
        status=status,  # type: ignore[arg-type]
        field="data.need" if status == "rejected" else None,
        reason="is not a need of the place" if status == "rejected" else None,
        topic="hub.inbound.police-north.v1",
        partition=0,
        offset=n,
        receivedat=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return answer.to_json()


class Message:
    def __init__(self, offset: int, value: bytes | None) -> None:
        self.offset, self.value = offset, value


class FakeConsumer:
    """kafka-python's KafkaConsumer on one partition holding `records` (offset: value); the
    offsets between them are transaction markers or aborted records, which a read_committed
    consumer passes without giving them. `end` is the last stable offset."""

    made: list["FakeConsumer"] = []

    def __init__(self, **config: Any) -> None:
        self.config = config
        self.records: dict[int, bytes | None] = {}
        self.end = 0
        self.at = 0
        self.polls = 0
        self.on_poll: Callable[[FakeConsumer], None] = lambda consumer: None
        self.refuse: KafkaError | None = None
        self.closed = False
        FakeConsumer.made.append(self)

    def end_offsets(self, partitions: list[TopicPartition], timeout_ms: int) -> dict[Any, int]:
        if self.refuse is not None:
            raise self.refuse
        return {partitions[0]: self.end}

    def assign(self, partitions: list[TopicPartition]) -> None:
        assert [tp.topic for tp in partitions] == ["hub.receipts.police-north.v1"]
        self.tp = partitions[0]

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.at = offset

    def position(self, tp: TopicPartition) -> int:
        return self.at

    def poll(self, timeout_ms: int) -> dict[Any, list[Message]]:
        self.polls += 1
        self.on_poll(self)
        waiting = [
            Message(o, v) for o, v in sorted(self.records.items()) if self.at <= o < self.end
        ]
        given = waiting[:2]  # at most two a poll
        self.at = given[-1].offset + 1 if len(waiting) > 2 else max(self.at, self.end)
        return {self.tp: given} if given else {}

    def close(self) -> None:
        self.closed = True


def reader(**kwargs: Any) -> tuple[ReceiptReader, FakeConsumer]:
    made = ReceiptReader(CONNECTION, AGENCY, make_consumer=FakeConsumer, **kwargs)
    return made, FakeConsumer.made[-1]


def test_receipts_are_read_committed_from_an_offset_to_the_end_as_it_was() -> None:
    receipts, consumer = reader()
    consumer.records = {0: receipt(0), 1: receipt(1), 3: receipt(3, "rejected"), 5: receipt(5)}
    consumer.end = 5  # offsets 2 and 4: a commit's markers; 5 is not committed yet
    assert consumer.config["isolation_level"] == "read_committed"
    assert consumer.config["group_id"] is None  # assigned, in no group: READ on the topic only
    found = list(receipts.read(start=1))
    assert [(r.id, r.status) for r in found] == [("evt-1", "accepted"), ("evt-3", "rejected")]
    assert found[1].field == "data.need"
    assert receipts.position == 5
    assert receipts.unreadable == []
    receipts.close()
    assert consumer.closed


def test_a_record_that_is_not_a_receipt_is_noted_and_the_reading_goes_on() -> None:
    receipts, consumer = reader()
    consumer.records = {0: b"{}", 1: None, 2: receipt(2)}
    consumer.end = 3
    assert [r.id for r in receipts.read()] == ["evt-2"]
    assert receipts.unreadable == [0, 1]


def test_reading_stops_with_an_error_when_the_end_is_not_reached_in_time() -> None:
    receipts, consumer = reader(timeout_s=0.3)
    consumer.end = 4
    consumer.poll = lambda timeout_ms: {}  # type: ignore[method-assign]  # the broker stalls
    with pytest.raises(LogError, match=r"reading hub\.receipts\.police-north\.v1 timed out"):
        list(receipts.read())


def test_a_long_reading_that_keeps_moving_is_not_cut_off_by_the_timeout() -> None:
    receipts, consumer = reader(timeout_s=0.3)
    consumer.records = {n: receipt(n) for n in range(8)}
    consumer.end = 8
    consumer.on_poll = lambda consumer: time.sleep(0.1)  # two a poll: 0.4 s in all
    assert len(list(receipts.read())) == 8


def test_answers_come_until_every_event_sent_is_answered_and_no_others() -> None:
    receipts, consumer = reader()
    consumer.records = {10: receipt(7), 11: receipt(1), 12: receipt(2, "duplicate")}
    consumer.end = 13

    def arrive(consumer: FakeConsumer) -> None:
        if consumer.polls == 3:  # the gateway answers the second time of evt-1 later
            consumer.records |= {14: receipt(1, "duplicate"), 15: receipt(3)}
            consumer.end = 17

    consumer.on_poll = arrive
    start = 10
    found = list(receipts.answers(["evt-1", "evt-2", "evt-1"], start, timeout_s=10))
    assert [(r.id, r.status) for r in found] == [
        ("evt-1", "accepted"),
        ("evt-2", "duplicate"),
        ("evt-1", "duplicate"),
    ]
    assert consumer.polls <= 4  # it stopped once all were answered


def test_answers_end_at_the_timeout_with_what_came() -> None:
    receipts, consumer = reader()
    consumer.records = {0: receipt(1)}
    consumer.end = 1
    found = list(receipts.answers(["evt-1", "evt-2"], 0, timeout_s=0.5))
    assert [r.id for r in found] == ["evt-1"]
    run = AgencyRun(AGENCY, "", sent=2)
    for answer in found:
        run.count(Outcome(answer.status, answer.id, answer.field, answer.reason))
    assert (run.accepted, run.unanswered) == (1, 1)


def test_another_agencys_receipts_are_refused_by_name() -> None:
    receipts, consumer = reader()
    consumer.refuse = TopicAuthorizationFailedError("hub.receipts.police-north.v1")
    with pytest.raises(LogError) as refused:
        receipts.end()
    assert (
        "principal (police-north) may not read hub.receipts.police-north.v1: is it agency "
        "police-north's?"
    ) in str(refused.value)


def test_a_rejected_answer_is_counted_with_its_field_and_reason() -> None:
    run = AgencyRun(AGENCY, "", sent=3)
    run.count(Outcome("accepted", "evt-1"))
    run.count(Outcome("rejected", "evt-2", "data.need", "is not a need of the place"))
    assert (run.accepted, run.rejected, run.unanswered) == (1, 1, 1)
    assert run.reasons == ["police-north: event evt-2: data.need: is not a need of the place"]
