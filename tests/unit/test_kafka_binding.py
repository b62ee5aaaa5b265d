"""The CloudEvents Kafka protocol binding: binary, structured and batch messages, and back."""

import base64

import orjson
import pytest

from schemas.cloudevents import CloudEvent
from schemas.kafka_binding import (
    BATCH,
    STRUCTURED,
    BindingError,
    KafkaMessage,
    decode,
    to_batch,
    to_binary,
    to_structured,
)
from schemas.logged import LoggedEvent

SUBJECT = "a" * 64
EVENT = {
    "specversion": "1.0",
    "id": "e-1",
    "source": "urn:agency:police-north",
    "type": "hub.referral.made.v1",
    "subject": SUBJECT,
    "time": "2025-03-05T14:30:00Z",
    "datacontenttype": "application/json",
    "recordversion": 2,
    "keyversion": 1,
    "data": {"need": "housing", "name": "Zoë"},
}


def _roundtrip(message: KafkaMessage) -> list[dict[str, object]]:
    return decode(message.headers, message.value, message.key)


def test_binary_mode_puts_each_attribute_in_a_ce_header_and_the_data_in_the_value() -> None:
    message = to_binary(EVENT)
    headers = dict(message.headers)
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_recordversion"] == b"2"
    assert headers["ce_time"] == b"2025-03-05T14:30:00Z"
    assert headers["content-type"] == b"application/json"
    assert "ce_datacontenttype" not in headers
    assert "ce_data" not in headers
    assert message.key == SUBJECT
    assert orjson.loads(message.value or b"") == EVENT["data"]


def test_binary_mode_round_trips_and_the_hub_s_integers_come_back_as_integers() -> None:
    [event] = _roundtrip(to_binary(EVENT))
    assert event == EVENT
    CloudEvent.model_validate(event)


def test_booleans_and_other_integer_extensions_go_as_text_and_come_back_as_text() -> None:
    message = to_binary(EVENT | {"urgent": True, "hops": 3})
    assert (dict(message.headers)["ce_urgent"], dict(message.headers)["ce_hops"]) == (b"true", b"3")
    [event] = _roundtrip(message)
    assert (event["urgent"], event["hops"]) == ("true", "3")
    CloudEvent.model_validate(event)


def test_data_without_a_content_type_is_sent_as_json_and_says_so() -> None:
    event = {k: v for k, v in EVENT.items() if k != "datacontenttype"}
    message = to_binary(event)
    assert dict(message.headers)["content-type"] == b"application/json"
    assert _roundtrip(message) == [event | {"datacontenttype": "application/json"}]


def test_opaque_data_round_trips_as_data_base64_and_no_data_is_no_value() -> None:
    blob = bytes(range(256))
    event = {"specversion": "1.0", "id": "1", "source": "#a", "type": "t"}
    encoded = event | {"data_base64": base64.b64encode(blob).decode()}
    message = to_binary(encoded)
    assert message.value == blob
    assert "content-type" not in dict(message.headers)
    assert _roundtrip(message) == [encoded]
    assert to_binary(event | {"data": blob}).value == blob
    tombstone = to_binary(event)
    assert (tombstone.value, tombstone.key) == (None, None)
    assert _roundtrip(tombstone) == [event]


def test_structured_mode_holds_the_whole_event_in_the_value() -> None:
    message = to_structured(EVENT)
    assert message.headers == (("content-type", STRUCTURED.encode()),)
    assert message.key == SUBJECT
    assert orjson.loads(message.value or b"") == EVENT
    assert _roundtrip(message) == [EVENT]
    bytes_data = {"specversion": "1.0", "id": "1", "source": "#a", "type": "t", "data": b"\x00"}
    assert _roundtrip(to_structured(bytes_data))[0]["data_base64"] == "AA=="


def test_a_batch_is_a_json_array_keyed_by_the_subject_all_share() -> None:
    other = EVENT | {"id": "e-2"}
    message = to_batch([EVENT, other])
    assert message.headers == (("content-type", BATCH.encode()),)
    assert message.key == SUBJECT
    assert _roundtrip(message) == [EVENT, other]
    assert to_batch([EVENT, other | {"subject": "b" * 64}]).key is None
    assert to_batch([{k: v for k, v in EVENT.items() if k != "subject"}]).key is None
    assert _roundtrip(to_batch([])) == []


def test_the_spec_s_binary_example_decodes() -> None:
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_type", b"com.example.someevent"),
        ("ce_source", b"/mycontext/subcontext"),
        ("ce_id", b"1234-1234-1234"),
        ("ce_time", b"2018-04-05T03:56:24Z"),
        ("content-type", b"application/avro"),
    ]
    [event] = decode(headers, b"\x02avro", "mykey")
    assert event == {
        "specversion": "1.0",
        "type": "com.example.someevent",
        "source": "/mycontext/subcontext",
        "id": "1234-1234-1234",
        "time": "2018-04-05T03:56:24Z",
        "datacontenttype": "application/avro",
        "data_base64": base64.b64encode(b"\x02avro").decode(),
    }
    assert "mykey" not in orjson.dumps(event).decode()  # the key is never an attribute
    CloudEvent.model_validate(event)


def test_the_spec_s_structured_example_decodes() -> None:
    value = b"""{
        "specversion" : "1.0",
        "type" : "com.example.someevent",
        "source" : "/mycontext/subcontext",
        "id" : "1234-1234-1234",
        "time" : "2018-04-05T03:56:24Z",
        "datacontenttype" : "application/xml",
        "data" : "<much wow=\\"xml\\"/>"
    }"""
    headers = [("content-type", b"application/cloudevents+json; charset=UTF-8")]
    [event] = decode(headers, value, b"mykey")
    assert event["datacontenttype"] == "application/xml"
    assert event["data"] == '<much wow="xml"/>'
    CloudEvent.model_validate(event)


def test_a_structured_message_with_stray_ce_headers_decodes_as_structured() -> None:
    message = to_structured(EVENT)
    stray = (*message.headers, ("ce_id", b"other"), ("ce_type", b"other"), ("ce_id", b"again"))
    assert decode(stray, message.value) == [EVENT]


def test_a_binary_message_with_a_json_content_type_decodes_as_binary() -> None:
    headers = [("ce_specversion", b"1.0"), ("ce_id", b"1"), ("ce_source", b"#a")]
    headers += [("ce_type", b"t"), ("content-type", b"application/json; charset=utf-8")]
    [event] = decode(headers, b'{"specversion": "0.3"}')
    assert event["data"] == {"specversion": "0.3"}
    assert event["datacontenttype"] == "application/json; charset=utf-8"


def test_header_names_and_the_media_type_are_matched_in_any_case() -> None:
    message = to_structured(EVENT)
    assert decode([("Content-Type", b"Application/CloudEvents+JSON")], message.value) == [EVENT]
    headers = [("CE_SpecVersion", b"1.0"), ("Ce_Id", b"1"), ("ce_SOURCE", b"#a")]
    headers += [("ce_type", b"t"), ("CONTENT-TYPE", b"Application/Vnd.Thing+JSON")]
    [event] = decode(headers, b"[1]")
    assert (event["specversion"], event["id"], event["source"], event["data"]) == (
        "1.0",
        "1",
        "#a",
        [1],
    )


SECRET = "Jane Smith 943 476 5919"


@pytest.mark.parametrize(
    ("headers", "value", "field"),
    [
        ([("ce_specversion", b"1.0"), ("ce_id", b"1"), ("CE_ID", SECRET.encode())], None, "ce_id"),
        (
            [("content-type", b"application/json"), ("Content-Type", SECRET.encode())],
            b"{}",
            "headers",
        ),
        ([("ce_id", SECRET.encode())], None, "ce_specversion"),
        (
            [("ce_specversion", b"1.0"), ("ce_recordversion", SECRET.encode())],
            None,
            "ce_recordversion",
        ),
        ([("ce_specversion", b"1.0"), ("ce_id", SECRET.encode("utf-16"))], None, "ce_id"),
        ([("ce_specversion", b"1.0"), (f"ce_{SECRET}", b"1")], None, "headers"),
        ([("ce_specversion", b"1.0"), ("ce_data", SECRET.encode())], None, "headers"),
        (
            [("ce_specversion", b"1.0"), ("content-type", b"application/json")],
            SECRET.encode(),
            "value",
        ),
        ([("content-type", f"application/cloudevents+{SECRET}".encode())], b"{}", "content-type"),
        ([("content-type", STRUCTURED.encode())], SECRET.encode(), "value"),
        ([("content-type", STRUCTURED.encode())], b"[]", "value"),
        ([("content-type", BATCH.encode())], b"{}", "value"),
        ([("content-type", STRUCTURED.encode())], None, "value"),
    ],
)
def test_a_message_that_is_not_a_cloudevent_is_refused_naming_the_header_never_the_value(
    headers: list[tuple[str, bytes]], value: bytes | None, field: str
) -> None:
    with pytest.raises(BindingError) as raised:
        decode(headers, value)
    assert raised.value.field == field
    assert "Jane" not in str(raised.value)
    assert "5919" not in str(raised.value)


def test_a_binary_message_without_a_specversion_is_not_a_cloudevent() -> None:
    with pytest.raises(BindingError, match="not a CloudEvent: no ce_specversion header"):
        decode([("content-type", b"application/json"), ("ce_id", b"1")], b"{}")


@pytest.mark.parametrize(
    "event",
    [
        EVENT | {"nested": {"a": 1}},
        EVENT | {SECRET: "x"},
        EVENT | {"data_base64": "not base64!"},
        {"datacontenttype": "text/plain", "data": {"a": 1}},
    ],
)
def test_an_event_the_binary_mode_cannot_carry_is_refused(event: dict[str, object]) -> None:
    with pytest.raises(BindingError) as raised:
        to_binary(event)
    assert "Jane" not in str(raised.value)


@pytest.mark.parametrize(
    "time",
    ["2025-03-05T14:30:00Z", "2025-03-05T14:30:00.250000+01:00", "2025-03-05T14:30:00-05:00"],
)
def test_a_logged_event_s_headers_are_the_binary_mode_of_its_clear_fields(time: str) -> None:
    entry = LoggedEvent.model_validate(
        {
            "id": "b" * 64 + "-v3",
            "source": "urn:agency:police-north",
            "type": "hub.referral.made.v1",
            "subject": SUBJECT,
            "time": time,
            "recordref": "b" * 64,
            "recordversion": 3,
            "recordedat": "2025-03-06T09:00:00.123456Z",
            "keyversion": 1,
            "sealed": "A" * 44,
        }
    )
    value = entry.to_json()
    fields = orjson.loads(value)
    attributes = {k: v for k, v in fields.items() if k != "sealed"}
    expected = to_binary({"specversion": "1.0", **attributes, "data": fields})
    assert entry.binding_headers() == expected.headers
    assert dict(entry.binding_headers())["ce_time"] == time.encode()
    [event] = decode(entry.binding_headers(), value, entry.subject)
    assert event == {"specversion": "1.0", **attributes, "datacontenttype": "application/json"} | {
        "data": fields
    }
