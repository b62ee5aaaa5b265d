"""Entries the worker could not apply: list them, and send them through again once fixed.

The rejected log (`hub.events.rejected.v1`) is append-only: the worker appends a `rejected`
record for each entry it refused (keyed `partition:offset` of the entry), and sending one again
appends a `resent` record for it. An entry is pending while its latest record is `rejected`;
a rejection written twice (the worker crashed before saving its position) is shown once.

    for item in pending(runtime.rejected):
        print(item.ref, item.field, item.reason)
    resend(runtime.log, runtime.rejected, ["3:1041"])              # as it was (the hub was fixed)
    resend(runtime.log, runtime.rejected, ["3:1041"], fixed=data)  # corrected by the operator
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from pydantic import ValidationError

from hub.log import EventLog, LogRecord
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
        )
        for ref, doc in latest.items()
        if doc is not None
    ]


def resend(
    log: EventLog,
    rejected: EventLog,
    refs: Sequence[str],
    fixed: bytes | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    """Append the refused entries `refs` to the event log again (with `fixed`, that corrected
    event instead of the one entry named), and mark them sent; return how many were sent.

    Raises HubError naming a ref that is not pending, or the field a fixed event lacks.
    """
    waiting = {item.ref: item for item in pending(rejected)}
    unknown = [ref for ref in refs if ref not in waiting]
    if unknown:
        raise HubError(f"not a pending rejected entry: {', '.join(unknown)} (see `hub rejected`)")
    if fixed is not None and len(refs) != 1:
        raise HubError("a fixed event replaces one rejected entry: name exactly one")
    records: list[LogRecord] = []
    for ref in refs:
        item = waiting[ref]
        if fixed is None:
            records.append(LogRecord(item.key, item.value))
            continue
        try:
            event = LoggedEvent.model_validate_json(fixed)
        except ValidationError as error:
            field, reason = describe(error)[0]
            raise HubError(f"the fixed event for {ref}: {field}: {reason}") from None
        records.append(LogRecord(event.subject, fixed))
    log.append(records)
    at = format_rfc3339(clock())
    rejected.append([LogRecord(ref, orjson.dumps({"status": "resent", "at": at})) for ref in refs])
    return len(records)
