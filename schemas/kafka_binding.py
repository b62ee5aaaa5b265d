"""The CloudEvents Kafka protocol binding: events to Kafka messages and back.

As `cloudevents/bindings/kafka-protocol-binding.md` (CloudEvents 1.0) says:
- binary content mode (`to_binary`): every attribute and extension but `data` is a `ce_<name>`
  header of UTF-8 text (integers in decimal, booleans `true`/`false`), `datacontenttype` is the
  `content-type` header, and the data is the value as it is (an event with no data has no value);
- structured content mode (`to_structured`): `content-type: application/cloudevents+json;
  charset=UTF-8` and the event in the JSON event format as the value;
- batches (`to_batch`): the Kafka binding has none, so the hub uses the JSON batch format
  (`application/cloudevents-batch+json`), as its HTTP binding does.

The key is the event's `subject` (the hub's key mapper: one person's events on one partition);
`decode` never makes an attribute of the key (§3.1: a key mapper must not change the event).

Receiving, the `content-type` header alone decides the mode (§3): a media type that begins
`application/cloudevents` (matched case-insensitively, parameters ignored) is structured, or a
batch for `-batch+json`; only the JSON format is read, another is refused (§3 lets a receiver
forward it instead; the hub has nowhere to). Anything else, or no `content-type`, is binary
mode. There the value is parsed as JSON only when the content type says JSON
(`application/json` or a `+json` suffix); any other value is opaque bytes, given as
`data_base64`: without a content type the data's type is unknown, so it is never guessed.

A structured message's `ce_` headers are ignored (§3.3.3 lets a sender add them), repeated or
not; in binary mode an attribute's header given twice is refused, as is a second
`content-type` in any mode: the hub never picks one of two values. Header values come back as
text, but for the hub's integer attributes (`schemas.cloudevents.INTEGER_ATTRIBUTES`), which
come back as integers, as the HTTP binding gives them; another integer or boolean extension
comes back as its text.
Writing an event that has data but no `datacontenttype`, `to_binary` sends `content-type:
application/json`: the JSON format's default made explicit, so the value reads back as JSON.

    message = to_binary(event)                          # KafkaMessage(key, headers, value)
    [same] = decode(message.headers, message.value, message.key)
"""

import base64
import binascii
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from schemas.base import format_rfc3339
from schemas.cloudevents import attribute_from_text
from schemas.errors import HubError

Headers = tuple[tuple[str, bytes], ...]
CONTENT_TYPE = "content-type"
PREFIX = "ce_"
STRUCTURED = "application/cloudevents+json; charset=UTF-8"
BATCH = "application/cloudevents-batch+json; charset=UTF-8"
JSON = "application/json"
CLOUDEVENTS = "application/cloudevents"
NOT_HEADERS = frozenset({"data", "data_base64", "datacontenttype"})
_NAME = re.compile(r"[a-z0-9]{1,20}")


class BindingError(HubError):
    """A Kafka message that is not a CloudEvent as the binding maps one, or an event that
    cannot be mapped; it names the header or attribute and why, never its value."""

    status = 422
    field = "headers"


@dataclass(frozen=True, slots=True)
class KafkaMessage:
    """A Kafka record as the binding maps an event: its key, headers and value."""

    key: str | None
    headers: Headers
    value: bytes | None


def is_json(content_type: str) -> bool:
    """Whether a content type is JSON: `application/json` or a `+json` suffix, any case."""
    media = _media(content_type)
    return media == JSON or media.endswith("+json")


def header_value(name: str, value: object) -> bytes:
    """An attribute's header value: UTF-8 text, integers in decimal, booleans true/false."""
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int):
        return b"%d" % value
    if isinstance(value, datetime):
        return format_rfc3339(value).encode()
    if isinstance(value, str):
        return value.encode()
    raise BindingError(
        f"attribute {name} must be text, an integer, a boolean or a time", field=name
    )


def to_binary(event: Mapping[str, Any]) -> KafkaMessage:
    """`event` (the JSON format's attributes) in binary content mode."""
    headers = [
        (PREFIX + _name(name), header_value(name, value))
        for name, value in event.items()
        if name not in NOT_HEADERS and value is not None  # null: the attribute is absent
    ]
    content_type = event.get("datacontenttype")
    value = _data(event, content_type)
    data = event.get("data")
    if content_type is None and data is not None and not isinstance(data, bytes):
        content_type = JSON  # the JSON format's default, said: the value reads back as JSON
    if content_type is not None:
        headers.append((CONTENT_TYPE, header_value("datacontenttype", content_type)))
    return KafkaMessage(_key(event), tuple(headers), value)


def to_structured(event: Mapping[str, Any]) -> KafkaMessage:
    """`event` in structured content mode: the JSON event format as the value."""
    return KafkaMessage(_key(event), ((CONTENT_TYPE, STRUCTURED.encode()),), _dumps_event(event))


def to_batch(events: Sequence[Mapping[str, Any]]) -> KafkaMessage:
    """`events` as one message of the JSON batch format, keyed by the subject all share."""
    subjects = {e.get("subject") for e in events}
    key = subjects.pop() if len(subjects) == 1 else None
    value = b"[" + b",".join(_dumps_event(e) for e in events) + b"]"
    return KafkaMessage(
        key if isinstance(key, str) else None, ((CONTENT_TYPE, BATCH.encode()),), value
    )


def decode(
    headers: Iterable[tuple[str, bytes]], value: bytes | None, key: str | bytes | None = None
) -> list[dict[str, Any]]:
    """The events of one Kafka message, as JSON-format dicts (one, or a batch's). `key` is
    taken so a record can be passed whole; it is never an attribute of the event (§3.1).

    Raises BindingError naming the header or field, and why.
    """
    content_type: str | None = None
    attributes: list[tuple[str, bytes]] = []
    for name, raw in headers:
        if not isinstance(name, str):
            raise BindingError("a header's name must be text")
        lowered = name.lower()
        if lowered == CONTENT_TYPE:
            if content_type is not None:
                raise BindingError("the content-type header is given twice: give it once")
            content_type = _text(CONTENT_TYPE, raw)
        elif lowered.startswith(PREFIX):
            attributes.append((lowered[len(PREFIX) :], raw))
    media = _media(content_type or "")
    if media.startswith(CLOUDEVENTS):
        if media == CLOUDEVENTS + "-batch+json":
            events = _json(value, "a batch")
            if not isinstance(events, list):
                raise BindingError("a batch's value must be a JSON array of events", field="value")
            return [_event(e) for e in events]
        if media == CLOUDEVENTS + "+json":
            return [_event(_json(value, "a structured event"))]
        raise BindingError(
            "the content-type names a CloudEvents event format this hub does not read: "
            "send application/cloudevents+json, or binary mode",
            field=CONTENT_TYPE,
        )
    return [_binary(content_type, attributes, value)]


def _binary(
    content_type: str | None, attributes: list[tuple[str, bytes]], value: bytes | None
) -> dict[str, Any]:
    event: dict[str, Any] = {}
    for name, raw in attributes:
        if _NAME.fullmatch(name) is None:  # the name is never repeated: it may be a value
            raise BindingError("a ce_ header's name must be ce_ and 1-20 letters or digits")
        header = PREFIX + name
        if name in NOT_HEADERS:
            raise BindingError(f"{header} is not a header: the value or content-type holds it")
        if name in event:  # the hub never picks one of two values
            raise BindingError(f"the {header} header is given twice: give each once", field=header)
        try:
            event[name] = attribute_from_text(name, _text(header, raw))
        except ValueError as error:
            raise BindingError(f"the {header} header {error}", field=header) from None
    if "specversion" not in event:
        raise BindingError("not a CloudEvent: no ce_specversion header", field="ce_specversion")
    if content_type is not None:
        event["datacontenttype"] = content_type
    if value is None:
        return event
    if content_type is not None and is_json(content_type):
        event["data"] = _json(value, "the data")
    else:
        event["data_base64"] = base64.b64encode(value).decode("ascii")
    return event


def _event(event: Any) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise BindingError("an event must be a JSON object", field="value")
    if "specversion" not in event:
        raise BindingError("not a CloudEvent: no specversion", field="specversion")
    return event


def _json(value: bytes | None, what: str) -> Any:
    if value is None:
        raise BindingError(f"the message has no value: {what} must be JSON", field="value")
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        raise BindingError(f"the value is not JSON: {what} must be JSON", field="value") from None


def _text(header: str, raw: object) -> str:
    if not isinstance(raw, bytes):
        raise BindingError(f"the {header} header's value must be bytes", field=header)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BindingError(f"the {header} header is not UTF-8 text", field=header) from None


def _name(name: str) -> str:
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise BindingError("an attribute's name must be 1-20 lower-case letters or digits")
    return name


def _data(event: Mapping[str, Any], content_type: object) -> bytes | None:
    data, encoded = event.get("data"), event.get("data_base64")
    if encoded is not None:
        if data is not None:
            raise BindingError("an event carries data or data_base64, not both", field="data")
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise BindingError("data_base64 is not base64", field="data_base64") from None
    if data is None or isinstance(data, bytes):
        return data
    if content_type is None or (isinstance(content_type, str) and is_json(content_type)):
        return _dumps(data)
    if isinstance(data, str):
        return data.encode()
    raise BindingError(
        "data of a content type that is not JSON must be text or bytes", field="data"
    )


def _dumps_event(event: Mapping[str, Any]) -> bytes:
    """The JSON event format: data held as bytes goes as `data_base64`."""
    if isinstance(event.get("data"), bytes):
        encoded = base64.b64encode(event["data"]).decode("ascii")
        event = {k: v for k, v in event.items() if k != "data"} | {"data_base64": encoded}
    return _dumps(event)


def _dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_UTC_Z)
    except TypeError:
        raise BindingError("the event is not JSON-serialisable", field="data") from None


def _key(event: Mapping[str, Any]) -> str | None:
    subject = event.get("subject")
    return subject if isinstance(subject, str) else None


def _media(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()
