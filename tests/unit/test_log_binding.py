"""Every record the hub writes to its logs is a CloudEvent as the Kafka protocol binding maps one.

The records are read back with a small decoder written here from the binding's text
(cloudevents/spec, `cloudevents/bindings/kafka-protocol-binding.md`), not with the hub's own
(`schemas.kafka_binding`), so the two are checked against the specification, not each other:

- §3: the `content-type` header decides the mode: a value prefixed `application/cloudevents`
  (matched case-insensitively) is structured mode, anything else binary mode;
- §3.2.1: in binary mode `content-type` is the `datacontenttype` attribute;
- §3.2.3: every other attribute is a header named `ce_<attribute>`, keys and values UTF-8;
- §3.2.2: the value is the data (here JSON, as the content type says).
"""

from pathlib import Path
from typing import Any

import orjson

from hub.log import EmbeddedLog, EventLog, LogEntry, LogRecord
from hub.store.application import Hub
from hub.worker.rejected import pending, resend
from hub.worker.worker import Worker
from tests.unit.test_worker import app, log  # noqa: F401  (fixtures)

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


def every_entry(of: EventLog) -> list[LogEntry]:
    return [e for p in range(of.partitions) for e in of.scan(p)]


def test_every_ingested_entry_is_a_binary_mode_cloudevent_of_its_own_fields(
    log: EmbeddedLog,  # noqa: F811
) -> None:
    entries = every_entry(log)
    assert len(entries) == 30
    for entry in entries:
        event = spec_decode(entry)
        logged = event["data"]
        assert event["datacontenttype"] == "application/json"
        for attribute in ("id", "source", "type", "subject", "time", "recordref", "recordedat"):
            assert event[attribute] == logged[attribute], attribute
        for attribute in ("recordversion", "keyversion"):
            assert event[attribute] == str(logged[attribute]), attribute
        assert entry.key == event["subject"]
        assert "sealed" not in event  # the sealed payload is in the value only


def test_the_rejected_log_and_what_resend_appends_are_binary_mode_cloudevents(
    app: Hub,  # noqa: F811
    log: EmbeddedLog,  # noqa: F811
    tmp_path: Path,
) -> None:
    good = every_entry(log)[0]
    log.append(
        [
            LogRecord(good.key, b"{}", (("ce_specversion", b"1.0"), ("trace", b"\xff"))),
            LogRecord(good.key, good.value.replace(b'"recordedat":"', b'"recordedat":"x')),
        ]
    )
    rejected = EmbeddedLog(tmp_path / "rejected.sqlite", partitions=1)
    worker = Worker(app, log, rejected=rejected)
    worker.run_until_caught_up()
    not_logged, bad_time = pending(rejected)
    fixed = orjson.loads(good.value) | {"id": "0" * 63 + "9-v1"}
    resend(log, rejected, [not_logged.ref])
    resend(log, rejected, [bad_time.ref], fixed=orjson.dumps(fixed))

    records = every_entry(rejected)
    assert len(records) == 4
    kinds = set()
    for record in records:
        event = spec_decode(record)
        status = event["data"]["status"]
        kinds.add((event["type"], status))
        assert event["source"] == "urn:hub:worker"
        assert event["id"] == f"{record.key}/{status}"
        assert (event["subject"], event["time"]) == (record.key, event["data"]["at"])
    assert kinds == {("hub.log.rejected.v1", "rejected"), ("hub.log.resent.v1", "resent")}
    assert len({spec_decode(r)["id"] for r in records}) == 4

    *_, as_it_was, corrected = log.scan(log.partition_of(good.key))
    assert as_it_was.headers == (("ce_specversion", b"1.0"), ("trace", b"\xff"))
    event = spec_decode(corrected)
    assert (event["id"], event["subject"]) == (fixed["id"], corrected.key)
    assert event["data"] == fixed
