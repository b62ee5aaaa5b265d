"""Entries the worker cannot apply go to the rejected log with their reason; the worker goes on;
`pending` lists each once, and `resend` sends them through again (as they were, or fixed)."""

from pathlib import Path

import orjson
import pytest

from hub.log import EmbeddedLog, LogRecord
from hub.store.application import Hub
from hub.worker.rejected import pending, resend
from hub.worker.worker import Worker
from schemas.errors import HubError
from tests.gateway_key import TEST_GATEWAY
from tests.unit.test_worker import app, log  # noqa: F401  (fixtures)


@pytest.fixture
def rejected(tmp_path: Path) -> EmbeddedLog:
    return EmbeddedLog(tmp_path / "rejected.sqlite", partitions=1)


def _one_good_entry(source: EmbeddedLog) -> tuple[str, dict[str, object]]:
    for partition in range(source.partitions):
        entries = source.read(partition, 0, 1)
        if entries:
            return entries[0].key, orjson.loads(entries[0].value)
    raise AssertionError("the fixture log is empty")


def test_a_bad_entry_is_set_aside_with_its_reason_and_the_worker_goes_on(
    app: Hub,  # noqa: F811
    log: EmbeddedLog,  # noqa: F811
    rejected: EmbeddedLog,
) -> None:
    key, good = _one_good_entry(log)
    log.append(
        [
            LogRecord(key, b"{not json"),
            LogRecord(key, orjson.dumps(good | {"sealed": "Not Sealed"})),
            LogRecord("f" * 64, orjson.dumps(good)),  # keyed under someone else
        ]
    )
    worker = Worker(app, log, rejected=rejected)
    assert worker.run_until_caught_up() == 33
    assert worker.lag() == 0
    assert worker.rejections == 3
    items = pending(rejected)
    assert [(i.field, i.reason.split(" ")[0]) for i in items][1:] == [
        ("sealed", "String"),
        ("subject", "is"),
    ]
    assert all(":" in i.ref for i in items)
    assert "Not Sealed" not in " ".join(i.reason for i in items)  # reasons never echo values


def test_a_rejection_written_twice_is_listed_once(
    app: Hub,  # noqa: F811
    log: EmbeddedLog,  # noqa: F811
    rejected: EmbeddedLog,
) -> None:
    key, _ = _one_good_entry(log)
    log.append([LogRecord(key, b"[]")])
    Worker(app, log, rejected=rejected).run_until_caught_up()
    entry = rejected.read(0, 0, 1)[0]
    rejected.append([LogRecord(entry.key, entry.value)])  # as after a crash before the save
    assert len(pending(rejected)) == 1


def test_a_fixed_entry_sent_again_is_applied_and_no_longer_pending(
    app: Hub,  # noqa: F811
    log: EmbeddedLog,  # noqa: F811
    rejected: EmbeddedLog,
) -> None:
    key, good = _one_good_entry(log)
    bad = good | {"id": "0" * 63 + "9-v1", "recordedat": "Bad Time"}
    log.append([LogRecord(key, orjson.dumps(bad))])
    worker = Worker(app, log, rejected=rejected)
    worker.run_until_caught_up()
    before = app.recorder.max_notification_id()
    [item] = pending(rejected)
    with pytest.raises(HubError, match=r"the fixed event for .*: recordedat"):
        resend(log, rejected, [item.ref], gateway=TEST_GATEWAY, fixed=orjson.dumps(bad))
    with pytest.raises(HubError, match="not a pending rejected entry: 9:9"):
        resend(log, rejected, ["9:9"], gateway=TEST_GATEWAY)
    fixed = bad | {"recordedat": good["recordedat"]}
    assert resend(log, rejected, [item.ref], gateway=TEST_GATEWAY, fixed=orjson.dumps(fixed)) == 1
    assert pending(rejected) == []
    assert worker.run_until_caught_up() == 1
    assert app.recorder.max_notification_id() == (before or 0) + 1


def test_an_entry_sent_again_unchanged_is_refused_again_under_its_new_place(
    app: Hub,  # noqa: F811
    log: EmbeddedLog,  # noqa: F811
    rejected: EmbeddedLog,
) -> None:
    key, _ = _one_good_entry(log)
    log.append([LogRecord(key, b"{}")])
    worker = Worker(app, log, rejected=rejected)
    worker.run_until_caught_up()
    [first] = pending(rejected)
    resend(log, rejected, [first.ref], gateway=TEST_GATEWAY)
    worker.run_until_caught_up()
    [again] = pending(rejected)
    assert again.ref != first.ref
    assert again.value == first.value


def test_an_entry_with_a_field_the_logged_event_does_not_have_is_set_aside(
    app: Hub,  # noqa: F811
    log: EmbeddedLog,  # noqa: F811
    rejected: EmbeddedLog,
) -> None:
    key, good = _one_good_entry(log)
    log.append([LogRecord(key, orjson.dumps(good | {"locality": "ashfield"}))])
    worker = Worker(app, log, rejected=rejected)
    assert worker.run_until_caught_up() == 31
    [item] = pending(rejected)
    assert (item.field, item.reason) == ("locality", "Extra inputs are not permitted")
    assert "ashfield" not in item.reason
