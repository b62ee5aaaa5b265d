"""Every record the hub writes to its logs is a CloudEvent as the Kafka protocol binding maps one,
read back with the small decoder of `tests/cloudevents_spec.py`, written from the binding's text.
"""

from pathlib import Path

import orjson

from hub.log import EmbeddedLog, EventLog, LogEntry, LogRecord
from hub.store.application import Hub
from hub.worker.rejected import pending, resend
from hub.worker.worker import Worker
from tests.cloudevents_spec import spec_decode
from tests.gateway_key import TEST_GATEWAY
from tests.unit.test_worker import app, log  # noqa: F401  (fixtures)


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
    resend(log, rejected, [not_logged.ref], gateway=TEST_GATEWAY)
    resend(log, rejected, [bad_time.ref], gateway=TEST_GATEWAY, fixed=orjson.dumps(fixed))

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
    assert as_it_was.headers[:-1] == (("ce_specversion", b"1.0"), ("trace", b"\xff"))
    assert as_it_was.headers[-1][0] == "hub-auth"  # signed as it goes again, after the others
    assert TEST_GATEWAY.problem(as_it_was) is None
    assert TEST_GATEWAY.problem(corrected) is None
    event = spec_decode(corrected)
    assert (event["id"], event["subject"]) == (fixed["id"], corrected.key)
    assert event["data"] == fixed
