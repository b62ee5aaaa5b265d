"""The gateway on the real, secured broker: Kafka's own ConsoleProducer, as an enrolled agency,
writes a binary-mode and a structured-mode event to its inbound topic; the gateway checks both
into the log in one transaction with their receipts; the worker applies them; and Kafka's own
ConsoleConsumer, as the agency and read_committed, reads two `accepted` receipts. An event
naming another agency as its source, and a message no binding reads, are each answered
`rejected` with the field and why, and nothing of them reaches the log."""

import uuid
from collections.abc import Callable
from typing import Any

import orjson

from hub.bootstrap import open_hub
from hub.settings import Settings, inbound_topic, receipts_topic
from schemas.kafka_binding import to_binary, to_structured
from tests.integration.gateway_runs import (
    gateway_running,
    read_receipts,
    receipts_end,
    start_group_at_end,
    wait_for,
)
from tests.integration.kafka_principals import (
    CONSUMER,
    PRODUCER,
    A,
    B,
    Enrolled,
    console,
    said,
)
from tests.integration.test_kafka_wire import console_line


def contact(person: str, record: str, version: int, agency: str = A) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"{record}-v{version}",
        "source": f"urn:agency:{agency}",
        "type": "hub.contact.recorded.v1",
        "time": "2024-03-05T14:30:00Z",
        "subject": person,
        "datacontenttype": "application/json",
        "locality": "ashfield",
        "keyversion": 1,
        "recordref": record,
        "recordversion": version,
        "data": {"channel": "phone", "purpose": "welfare-check", "need": "housing"},
    }


def produce(enrolled: Enrolled, agency: str, lines: list[str]) -> None:
    done = console(
        enrolled.kafka,
        PRODUCER,
        "--bootstrap-server",
        enrolled.kafka.bootstrap,
        "--producer.config",
        str(enrolled.java(agency)),
        "--topic",
        inbound_topic(agency),
        "--property",
        "parse.headers=true",
        "--property",
        "parse.key=true",
        feed="\n".join(lines) + "\n",
    )
    assert done.returncode == 0, said(done)[-2000:]
    assert "Exception" not in said(done), said(done)[-2000:]


def fresh() -> str:
    return uuid.uuid4().hex * 2  # 64 hex digits: a pseudonym of this run alone


def test_console_producer_events_reach_the_store_and_console_consumer_reads_the_receipts(
    enrolled: Enrolled, settings_for: Callable[[str, str], Settings]
) -> None:
    settings = settings_for("kafka", "sqlite")
    hub_connection = enrolled.kafka.connection
    start_group_at_end(hub_connection, settings.gateway_group, [A])
    person, record = fresh(), fresh()
    sent = [contact(person, record, 1), contact(person, record, 2)]
    binary, structured = to_binary(sent[0]), to_structured(sent[1])
    assert binary.value is not None
    assert structured.value is not None
    since = receipts_end(hub_connection, A)
    produce(
        enrolled,
        A,
        [
            console_line(binary.headers, binary.key, binary.value),
            console_line(structured.headers, structured.key, structured.value),
        ],
    )
    with gateway_running(settings, f"t-{uuid.uuid4().hex[:8]}") as gateway:
        wait_for(lambda: gateway.events >= 2, what="the gateway to decide both events")
    mine = read_receipts(hub_connection, A, since, 2)
    assert [(r["id"], r["status"]) for r in mine] == [(e["id"], "accepted") for e in sent]
    with open_hub(settings) as hub:
        assert hub.worker.run_until_caught_up() == 2
        assert hub.worker.lag() == 0  # past the transaction's marker too
        assert hub.worker.rejections == 0
        [journey] = hub.app.journeys_of([hub.ingest.rekey(person)]).values()
        assert len(journey.applied) == 2
    # Kafka's own consumer, as the agency, read_committed, in a group of the agency's.
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
    assert "AuthorizationException" not in said(read)
    shown = [orjson.loads(line) for line in read.stdout.splitlines() if line.startswith("{")]
    answered = {r["id"]: r["status"] for r in shown if r.get("id") in {e["id"] for e in sent}}
    assert answered == {sent[0]["id"]: "accepted", sent[1]["id"]: "accepted"}


def test_another_agencys_source_and_an_unreadable_message_are_answered_rejected(
    enrolled: Enrolled, settings_for: Callable[[str, str], Settings]
) -> None:
    settings = settings_for("kafka", "sqlite")
    hub_connection = enrolled.kafka.connection
    start_group_at_end(hub_connection, settings.gateway_group, [A])
    since = receipts_end(hub_connection, A)
    posing = to_binary(contact(fresh(), fresh(), 1, agency=B))  # on A's topic, as B
    assert posing.value is not None
    garbled = "content-type:application/cloudevents+json\tKEY\tnot json"
    produce(enrolled, A, [console_line(posing.headers, posing.key, posing.value), garbled])
    with gateway_running(settings, f"t-{uuid.uuid4().hex[:8]}") as gateway:
        wait_for(lambda: gateway.events >= 2, what="the gateway to decide both messages")
        assert gateway.accepted == 0
    first, second = read_receipts(hub_connection, A, since, 2)
    assert (first["status"], first["field"]) == ("rejected", "source")
    assert "forbidden" in str(first["reason"])
    assert (second["status"], second.get("id")) == ("rejected", None)
    assert "not json" not in orjson.dumps(second).decode()  # the reason never repeats a value
    with open_hub(settings) as hub:
        assert hub.worker.run_until_caught_up() == 0
        assert sum(hub.log.end_offsets().values()) == 0
