"""A small decoder of the CloudEvents Kafka protocol binding, written here from the binding's text
(cloudevents/spec, `cloudevents/bindings/kafka-protocol-binding.md`), not with the hub's own
(`schemas.kafka_binding`), so the hub's records are checked against the specification:

- §3: the `content-type` header decides the mode: a value prefixed `application/cloudevents`
  (matched case-insensitively) is structured mode, anything else binary mode;
- §3.2.1: in binary mode `content-type` is the `datacontenttype` attribute;
- §3.2.3: every other attribute is a header named `ce_<attribute>`, keys and values UTF-8;
- §3.2.2: the value is the data (here JSON, as the content type says).
"""

from typing import Any

import orjson

from hub.log import LogEntry

REQUIRED = ("specversion", "id", "source", "type")  # CloudEvents' REQUIRED attributes


def spec_decode(entry: LogEntry) -> dict[str, Any]:
    """One record as a CloudEvent, read as the binding's text says (see the module docstring)."""
    names = [name for name, _ in entry.headers]
    content_type = [v for n, v in entry.headers if n.lower() == "content-type"]
    assert len(content_type) <= 1
    if content_type and content_type[0].decode().lower().startswith("application/cloudevents"):
        event: dict[str, Any] = orjson.loads(entry.value)
        return event
    attributes = [
        (n[3:].lower(), v.decode("utf-8")) for n, v in entry.headers if n.startswith("ce_")
    ]
    assert len({n for n, _ in attributes}) == len(attributes), names  # no attribute twice
    event = dict(attributes)
    if content_type:
        event["datacontenttype"] = content_type[0].decode("utf-8")
    event["data"] = orjson.loads(entry.value)
    for attribute in REQUIRED:
        assert attribute in event, f"no ce_{attribute} header"
    assert event["specversion"] == "1.0"
    return event
