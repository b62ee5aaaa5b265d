"""Entries the worker could not apply: list them, and send them through again once fixed.

The rejected log (`hub.events.rejected.v1`) is append-only: the worker appends a `rejected`
record for each entry it refused (keyed `partition:offset` of the entry), and sending one again
appends a `resent` record for it. An entry is pending while its latest record is `rejected`;
a rejection written twice (the worker crashed before saving its position) is shown once.

Each record is a CloudEvent in the Kafka binding's binary content mode (`schemas.kafka_binding`):
`ce_id` the ref and status (`3:1041/rejected`), `ce_source` `urn:hub:worker`, `ce_type`
`hub.log.rejected.v1` or `hub.log.resent.v1`, `ce_subject` the ref (also the key), `ce_time`
when, and `content-type: application/json`; the value is the JSON document `pending` reads. A
rejection keeps the refused entry's value and headers, so sending it again as it was sends
both; an entry that is a logged event is sent with the headers its fields give
(`LoggedEvent.binding_headers`), as ingest sends them.

What is sent again is signed with the gateway's authenticator (`hub.log.authenticator`), as
ingest signs, so the worker applies it once it is right. An entry set aside because it was not
the gateway's (field `hub-auth`) is never signed as it was: that would make anyone's forgery
the hub's own. It goes again only as a fixed event the operator has checked.

    for item in pending(runtime.rejected):
        print(item.ref, item.field, item.reason)
    resend(runtime.log, runtime.rejected, ["3:1041"], gateway=runtime.gateway)  # as it was
    resend(runtime.log, runtime.rejected, ["3:1041"], gateway=runtime.gateway, fixed=data)
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from pydantic import ValidationError

from hub.log import Authenticator, EventLog, Headers, LogEntry, LogRecord
from hub.log.authenticator import HEADER as AUTH_HEADER
from hub.log.port import headers_as_text, headers_from_text
from schemas.base import format_rfc3339
from schemas.errors import HubError
from schemas.logged import LoggedEvent
from schemas.validation import describe


@dataclass(frozen=True)
class Rejected:
    """One entry the worker refused and that has not been sent again."""

    ref: str
    """`partition:offset` of the refused entry in the event log."""
    key: str
    field: str
    reason: str
    at: str
    value: bytes
    headers: Headers = ()
    """The refused entry's headers (none for a rejection recorded before they were kept)."""


SOURCE = "urn:hub:worker"
"""The `ce_source` of the rejected log's records."""
TYPES = {"rejected": "hub.log.rejected.v1", "resent": "hub.log.resent.v1"}
"""The `ce_type` of the rejected log's records, by status."""


def binding_headers(ref: str, status: str, at: str) -> Headers:
    """A rejected-log record's headers in binary content mode (see the module docstring)."""
    return (
        ("ce_specversion", b"1.0"),
        ("ce_id", f"{ref}/{status}".encode()),
        ("ce_source", SOURCE.encode()),
        ("ce_type", TYPES[status].encode()),
        ("ce_subject", ref.encode()),
        ("ce_time", at.encode()),
        ("content-type", b"application/json"),
    )


def rejection(log: str, entry: LogEntry, field: str, reason: str, at: datetime) -> LogRecord:
    """The rejected log's record of `entry` of the log named `log`, refused for `reason`."""
    ref, when = f"{entry.partition}:{entry.offset}", format_rfc3339(at)
    document = {
        "status": "rejected",
        "log": log,
        "partition": entry.partition,
        "offset": entry.offset,
        "key": entry.key,
        "field": field,
        "reason": reason,
        "at": when,
        "value": entry.value.decode("utf-8", "backslashreplace"),
        "headers": headers_as_text(entry.headers),
    }
    return LogRecord(ref, orjson.dumps(document), binding_headers(ref, "rejected", when))


def pending(rejected: EventLog) -> list[Rejected]:
    """The refused entries not yet sent again, in the order they were refused."""
    latest: dict[str, dict[str, object] | None] = {}
    for partition in range(rejected.partitions):
        for entry in rejected.scan(partition):
            document = orjson.loads(entry.value)
            latest.pop(entry.key, None)  # re-insert: order by the latest record
            latest[entry.key] = document if document.get("status") == "rejected" else None
    return [
        Rejected(
            ref,
            str(doc["key"]),
            str(doc["field"]),
            str(doc["reason"]),
            str(doc["at"]),
            str(doc["value"]).encode("utf-8"),
            headers_from_text(doc.get("headers")),
        )
        for ref, doc in latest.items()
        if doc is not None
    ]


def resend(
    log: EventLog,
    rejected: EventLog,
    refs: Sequence[str],
    *,
    gateway: Authenticator,
    fixed: bytes | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    """Append the refused entries `refs` to the event log again, signed by `gateway` (with
    `fixed`, that corrected event instead of the one entry named), and mark them sent; return
    how many were sent.

    Raises HubError naming a ref that is not pending, the field a fixed event lacks, or an
    entry that was not the gateway's sent as it was.
    """
    waiting = {item.ref: item for item in pending(rejected)}
    unknown = [ref for ref in refs if ref not in waiting]
    if unknown:
        raise HubError(f"not a pending rejected entry: {', '.join(unknown)} (see `hub rejected`)")
    if fixed is not None and len(refs) != 1:
        raise HubError("a fixed event replaces one rejected entry: name exactly one")
    forged = [ref for ref in refs if waiting[ref].field == AUTH_HEADER]
    if fixed is None and forged:
        raise HubError(
            f"not sent: {', '.join(forged)} was set aside as not written by the hub's gateway, "
            "and sending it as it was would sign it as the hub's own; check the event and "
            "send it with --fixed FILE"
        )
    records: list[LogRecord] = []
    for ref in refs:
        item = waiting[ref]
        if fixed is None:
            records.append(LogRecord(item.key, item.value, _resent_headers(item)))
            continue
        try:
            event = LoggedEvent.model_validate_json(fixed)
        except ValidationError as error:
            field, reason = describe(error)[0]
            raise HubError(f"the fixed event for {ref}: {field}: {reason}") from None
        records.append(LogRecord(event.subject, fixed, event.binding_headers()))
    log.append(gateway.sign_all(records))
    at = format_rfc3339(clock())
    document = orjson.dumps({"status": "resent", "at": at})
    rejected.append([LogRecord(ref, document, binding_headers(ref, "resent", at)) for ref in refs])
    return len(records)


def _resent_headers(item: Rejected) -> Headers:
    """The headers of an entry sent again as it was: a logged event's own, as ingest gives
    them; anything else (the worker will refuse it again) the headers it came with."""
    try:
        return LoggedEvent.model_validate_json(item.value).binding_headers()
    except ValidationError:
        return item.headers


def logged_event(entry: LogEntry) -> tuple[LoggedEvent | None, tuple[str, str] | None]:
    """The entry as a logged event (validated once, from its bytes), or the (field, reason) it
    is refused for."""
    try:
        logged = LoggedEvent.model_validate_json(entry.value)
    except ValidationError as error:
        return None, describe(error)[0]
    if logged.subject != entry.key:
        return None, ("subject", "is not the entry's key: one person's events must share a key")
    return logged, None
