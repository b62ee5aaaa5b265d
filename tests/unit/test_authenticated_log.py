"""The authenticated log: the worker applies only entries the hub's gateway signed; anything
else written to the log (no authenticator, a changed one, another key's) is set aside with its
reason, the worker goes on and every question still answers; resend signs what it sends."""

import hashlib
import hmac
import os
import struct
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from hub.bootstrap import open_hub
from hub.cli import app as cli
from hub.ingest.seen import SqliteSeen
from hub.ingest.service import Ingest
from hub.keys.sqlite import EmbeddedRecordKeys
from hub.log import Authenticator, EmbeddedLog, Headers, LogEntry, LogRecord
from hub.log.authenticator import HEADER, MALFORMED, MISMATCH, MISSING, message
from hub.settings import Settings
from hub.store.application import Hub
from hub.worker.rejected import pending, resend
from hub.worker.worker import Worker
from schemas.errors import HubError
from schemas.place import Place
from tests.gateway_key import TEST_GATEWAY
from tests.unit.test_projector import HUB_KEY, _record
from tests.unit.test_set_aside import every_answer, parts  # noqa: F401  (a fixture)

Parts = tuple[Hub, Ingest, EmbeddedLog, EmbeddedLog, EmbeddedRecordKeys]
OTHER = Authenticator(b"someone else's key, not the hub's")


def _unsigned(headers: Headers) -> Headers:
    return tuple(h for h in headers if h[0] != HEADER)


def _entry(record: LogRecord) -> LogEntry:
    return LogEntry(0, 0, record.key, record.value, record.headers)


@pytest.fixture
def stranger(tmp_path: Path, parts: Parts) -> LogRecord:  # noqa: F811
    """A well-formed entry for a fourth event, as an ingest under another gateway key wrote it
    (its record has a key in the hub's key store: only the authenticator is wrong)."""
    _, _, _, _, keys = parts
    other_log = EmbeddedLog(tmp_path / "other-log.sqlite")
    ingest = Ingest(other_log, SqliteSeen(tmp_path / "other-seen.sqlite"), HUB_KEY, keys, OTHER)
    assert [o.status for o in ingest.submit("police-north", [_record(9, 4)])] == ["accepted"]
    [entry] = [e for p in range(other_log.partitions) for e in other_log.scan(p)]
    return LogRecord(entry.key, entry.value, entry.headers)


def _facts(app: Hub, keys: EmbeddedRecordKeys, place: Place) -> int:
    projector = every_answer(app, keys, place)  # every question answers
    [(count,)] = projector.con.execute("select count(*) from facts").fetchall()
    return int(count)


def test_what_ingest_appends_carries_the_gateways_authenticator_and_is_applied(
    parts: Parts,  # noqa: F811
    place: Place,
) -> None:
    app, _, log, rejected, keys = parts
    entries = [e for p in range(log.partitions) for e in log.scan(p)]
    assert all(e.headers[-1][0] == HEADER for e in entries)
    assert all(TEST_GATEWAY.problem(e) is None for e in entries)
    worker = Worker(app, log, rejected=rejected, keys=keys, gateway=TEST_GATEWAY)
    assert worker.run_until_caught_up() == 3
    assert worker.rejections == 0
    assert _facts(app, keys, place) == 3


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        pytest.param(lambda r: replace(r, headers=_unsigned(r.headers)), MISSING, id="plain"),
        pytest.param(lambda r: r, MISMATCH, id="another-key"),
        pytest.param(
            lambda r: replace(r, headers=(*_unsigned(r.headers), (HEADER, b"not hex"))),
            MALFORMED,
            id="malformed",
        ),
    ],
)
def test_an_entry_not_signed_by_the_gateway_is_set_aside_and_every_question_answers(
    parts: Parts,  # noqa: F811
    stranger: LogRecord,
    place: Place,
    forge: Callable[[LogRecord], LogRecord],
    reason: str,
) -> None:
    app, _, log, rejected, keys = parts
    forged = forge(stranger)
    log.append([forged])
    worker = Worker(app, log, rejected=rejected, keys=keys, gateway=TEST_GATEWAY)
    assert worker.run_until_caught_up() == 4
    assert (worker.rejections, worker.lag()) == (1, 0)  # its position passed it
    [item] = pending(rejected)
    assert (item.key, item.value, item.field, item.reason) == (
        forged.key,
        forged.value,
        "hub-auth",
        reason,
    )
    assert "not written by the hub's gateway" in item.reason
    assert _facts(app, keys, place) == 3  # the fourth event is in no answer
    # The same entry as the gateway signs it is applied: only the authenticator was wrong.
    log.append([TEST_GATEWAY.sign(forged)])
    assert worker.run_until_caught_up() == 1
    assert worker.rejections == 1
    assert _facts(app, keys, place) == 4


def _swap_first_two(headers: Headers) -> Headers:
    return (headers[1], headers[0], *headers[2:])


CHANGES = {
    "the value": lambda r: replace(
        r, value=r.value.replace(b'"recordversion":1', b'"recordversion":2')
    ),
    "the key": lambda r: replace(r, key="0" * 64),
    "a header's value": lambda r: replace(
        r,
        headers=tuple(
            (n, b"hub.referral.declined.v1" if n == "ce_type" else v) for n, v in r.headers
        ),
    ),
    "two headers' order": lambda r: replace(r, headers=_swap_first_two(r.headers)),
    "a header dropped": lambda r: replace(r, headers=r.headers[1:]),
    "a header added": lambda r: replace(r, headers=(("trace", b"1"), *r.headers)),
    "a header's name": lambda r: replace(
        r, headers=tuple(("ce_kind" if n == "ce_type" else n, v) for n, v in r.headers)
    ),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_any_change_to_a_signed_record_makes_its_authenticator_fail(change: str) -> None:
    record = TEST_GATEWAY.signed(
        "a" * 64,
        b'{"recordversion":1}',
        (("ce_specversion", b"1.0"), ("ce_type", b"hub.referral.made.v1"), ("content-type", b"x")),
    )
    assert TEST_GATEWAY.problem(_entry(record)) is None
    changed = CHANGES[change](record)
    assert changed != record
    assert TEST_GATEWAY.problem(_entry(changed)) == MISMATCH


def test_a_tampered_entry_in_the_log_is_set_aside(parts: Parts) -> None:  # noqa: F811
    app, _, log, rejected, keys = parts
    [entry] = [e for p in range(log.partitions) for e in log.read(p, 0, 1)][:1]
    signed = LogRecord(entry.key, entry.value, entry.headers)
    tampered = [CHANGES[c](signed) for c in ("the value", "a header's value", "two headers' order")]
    assert all(t != signed for t in tampered)
    log.append(tampered)
    worker = Worker(app, log, rejected=rejected, keys=keys, gateway=TEST_GATEWAY)
    assert worker.run_until_caught_up() == 6
    assert [(i.field, i.reason) for i in pending(rejected)] == [("hub-auth", MISMATCH)] * 3


def test_an_authenticator_that_is_not_one_header_of_64_hex_digits_is_malformed() -> None:
    record = TEST_GATEWAY.signed("a" * 64, b"{}", (("ce_id", b"1"),))
    tag = record.headers[-1][1]
    for headers in (
        (("ce_id", b"1"), (HEADER, tag[:-2])),
        (("ce_id", b"1"), (HEADER, tag.upper())),
        (("ce_id", b"1"), (HEADER, tag), (HEADER, tag)),
    ):
        assert TEST_GATEWAY.problem(_entry(replace(record, headers=headers))) == MALFORMED
    moved = replace(record, headers=(record.headers[-1], ("ce_id", b"1")))
    assert TEST_GATEWAY.problem(_entry(moved)) is None  # computed over the others, wherever it is


def test_the_authenticator_is_what_the_docstring_says_an_auditor_recomputes() -> None:
    key = b"k" * 32
    headers = (("ce_id", b"1"), ("content-type", b"application/json"))
    record = Authenticator(key).signed("person", b'{"a":1}', headers)

    def field(data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + data

    layout = b"hub-auth.v1\n" + field(b"person") + field(b'{"a":1}') + struct.pack(">I", 2)
    layout += field(b"ce_id") + field(b"1") + field(b"content-type") + field(b"application/json")
    assert message(record.key, record.value, record.headers) == layout
    expected = hmac.new(key, layout, hashlib.sha256).hexdigest().encode()
    assert record.headers == (*headers, (HEADER, expected))
    # Length-prefixed: moving bytes from one field to the next gives another message.
    assert message("ab", b"c", ()) != message("a", b"bc", ())
    assert message("a", b"", (("b", b"c"),)) != message("a", b"", (("bc", b""),))


def test_signing_again_replaces_the_authenticator_a_record_had() -> None:
    once = OTHER.signed("a" * 64, b"{}", (("ce_id", b"1"),))
    again = TEST_GATEWAY.sign(once)
    assert [n for n, _ in again.headers] == ["ce_id", HEADER]
    assert TEST_GATEWAY.problem(_entry(again)) is None


def test_a_gateway_key_shorter_than_32_bytes_is_refused() -> None:
    with pytest.raises(HubError, match="at least 32 bytes"):
        Authenticator(b"short")


def test_a_fixed_entry_resent_is_signed_and_applied(parts: Parts) -> None:  # noqa: F811
    app, _, log, rejected, keys = parts
    entry = log.read(next(p for p in range(log.partitions) if log.read(p, 0, 1)), 0, 1)[0]
    good = orjson.loads(entry.value)
    bad = good | {"id": "0" * 63 + "9-v1", "recordedat": "Bad Time"}
    log.append([TEST_GATEWAY.signed(entry.key, orjson.dumps(bad))])  # the hub's, but wrong
    worker = Worker(app, log, rejected=rejected, keys=keys, gateway=TEST_GATEWAY)
    assert worker.run_until_caught_up() == 4
    [item] = pending(rejected)
    assert item.field == "recordedat"
    fixed = bad | {"recordedat": good["recordedat"]}
    assert resend(log, rejected, [item.ref], gateway=TEST_GATEWAY, fixed=orjson.dumps(fixed)) == 1
    assert worker.run_until_caught_up() == 1
    assert (worker.rejections, pending(rejected)) == (1, [])
    assert app.journey_of(entry.key).has_recorded(good["source"], fixed["id"])


def test_an_entry_not_the_gateways_is_resent_only_as_a_fixed_event(
    parts: Parts,  # noqa: F811
    stranger: LogRecord,
    place: Place,
) -> None:
    app, _, log, rejected, keys = parts
    log.append([replace(stranger, headers=_unsigned(stranger.headers))])
    worker = Worker(app, log, rejected=rejected, keys=keys, gateway=TEST_GATEWAY)
    worker.run_until_caught_up()
    [item] = pending(rejected)
    with pytest.raises(HubError, match="would sign it as the hub's own"):
        resend(log, rejected, [item.ref], gateway=TEST_GATEWAY)
    assert [i.ref for i in pending(rejected)] == [item.ref]  # nothing sent
    assert resend(log, rejected, [item.ref], gateway=TEST_GATEWAY, fixed=stranger.value) == 1
    assert worker.run_until_caught_up() == 1
    assert pending(rejected) == []
    assert _facts(app, keys, place) == 4


def test_the_wired_hub_signs_with_its_gateway_key_and_sets_aside_what_it_did_not_sign(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "data", keys_dir=tmp_path / "keys")
    with open_hub(settings) as hub:
        assert hub.worker.gateway is hub.gateway
        outcomes = hub.ingest.submit("police-north", [_record(1, 1), _record(2, 2)])
        assert {o.status for o in outcomes} == {"accepted"}
        [signed] = [e for p in range(hub.log.partitions) for e in hub.log.read(p, 0, 1)][:1]
        hub.log.append([LogRecord(signed.key, signed.value, _unsigned(signed.headers))])
        assert hub.worker.run_until_caught_up() == 3
        assert (hub.worker.rejections, hub.worker.lag()) == (1, 0)
    key_file = settings.folder.gateway_key
    assert key_file == tmp_path / "keys" / "gateway-key.toml"
    assert os.stat(key_file).st_mode & 0o777 == 0o600
    assert not (tmp_path / "data" / "gateway-key.toml").exists()
    listed = CliRunner().invoke(
        cli,
        ["rejected", "--data-dir", str(settings.data_dir)],
        env={"HUB_KEYS_DIR": str(settings.keys_dir), "COLUMNS": "400"},
    )
    assert listed.exit_code == 0, listed.output
    assert "1 rejected entries waiting" in listed.output
    assert "hub-auth" in listed.output
    assert "not written by the hub's gateway" in listed.output
    with open_hub(settings) as again:  # the same key next time: what it signed still applies
        assert again.gateway.problem(signed) is None
