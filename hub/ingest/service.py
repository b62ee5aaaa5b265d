"""Ingest: check what an agency sends, key its pseudonyms again, drop repeats, seal, append.

    ingest = Ingest(log, SqliteSeen(path), hub_key, EmbeddedRecordKeys(keys_path))
    outcomes = ingest.submit("police-north", events)   # one Outcome per event, in order

Each event comes out accepted, duplicate, or rejected with the field and the reason (never
the value). The hub's record time is added beside the agency's event time (`recordedat`). What
is appended names nobody: the agency-stage pseudonyms (person, record, unit)
are keyed again with the hub's own key (DOMAIN.md), and the event id is derived anew from the
hub-stage record pseudonym, so nothing the place key can reproduce is ever stored.

What is appended says nothing about the person in clear either: the event's `locality` and
`data` are sealed under its record's key (`hub.keys.sealing`, `sealed`: base64 of nonce and
ciphertext); only what routing and dedupe need stays in clear (id, source, type, subject, time,
recordref, recordversion, recordedat, keyversion). The log cannot forget one record (Kafka
deletes only whole segments, by retention), so erasure deletes the key instead and every copy
(log, rejected log, store) becomes unreadable at once. A record once erased takes no new events.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import ValidationError

from connectors.pseudonym import keyed_sha256
from hub.ingest.guard import identifier_kind
from hub.ingest.seen import Seen
from hub.keys.port import Record, RecordKeys
from hub.keys.sealing import seal
from hub.log import EventLog, LogRecord
from schemas.base import format_rfc3339
from schemas.events import AgencyBatchAdapter, agency_urn, event_id
from schemas.submission import Outcome
from schemas.validation import describe_error

PSEUDONYM_FIELDS = frozenset({"unit", "recordref"})  # in `data`, at any depth
SEALED_FIELDS = ("locality", "data")  # what the event says about the person
ERASED = (
    "the record was erased at the agency's request and takes no more events: "
    "send it as a new record"
)


class Ingest:
    """Checks, re-keys, dedupes and appends agency events; see the module docstring."""

    def __init__(
        self,
        log: EventLog,
        seen: Seen,
        hub_key: bytes,
        keys: RecordKeys,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if len(hub_key) < 32:
            raise ValueError("the hub key must be at least 32 bytes")
        self._log, self._seen, self._keys, self._clock = log, seen, keys, clock
        self._digest = keyed_sha256(hub_key)

    def rekey(self, pseudonym: str) -> str:
        """The hub-stage pseudonym: HMAC-SHA256(hub key, agency-stage pseudonym)."""
        return self._digest(pseudonym.encode()).hex()

    def submit(self, agency: str, events: Sequence[dict[str, Any]]) -> list[Outcome]:
        """Take a batch from `agency`; return one Outcome per event, in the order given."""
        outcomes: list[Outcome | None] = [None] * len(events)
        checked = self._checked(agency, events, outcomes)
        pending: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        for index, event in checked:
            stored = self._hub_stage(event)
            key = (stored["source"], stored["id"])
            if key in pending:
                outcomes[index] = Outcome("duplicate", event["id"])
            else:
                pending[key] = (index, stored)
        for key in self._seen.known(pending):
            index, _ = pending.pop(key)
            outcomes[index] = Outcome("duplicate", events[index].get("id"))
        keys = self._keys.get_or_create({_record(s) for _, s in pending.values()})
        for key in [k for k, (_, s) in pending.items() if _record(s) not in keys]:
            index, _ = pending.pop(key)
            outcomes[index] = Outcome("rejected", events[index]["id"], "recordref", ERASED)
        if pending:
            recorded_at = format_rfc3339(self._clock())
            records = []
            for _, stored in pending.values():
                stored["recordedat"] = recorded_at
                sealed = _sealed(stored, keys[_record(stored)])
                records.append(LogRecord(key=sealed["subject"], value=orjson.dumps(sealed)))
            self._log.append(records)
            self._seen.remember(list(pending))
        for index, _ in pending.values():
            outcomes[index] = Outcome("accepted", events[index]["id"])
        return [o if o is not None else Outcome("rejected", reason="not checked") for o in outcomes]

    def _checked(
        self, agency: str, events: Sequence[dict[str, Any]], outcomes: list[Outcome | None]
    ) -> list[tuple[int, dict[str, Any]]]:
        """The events that pass schema, source and raw-identifier checks; the others rejected."""
        source = agency_urn(agency)
        invalid = _schema_errors(events)
        passed = []
        for index, event in enumerate(events):
            event_id_ = event.get("id") if isinstance(event, dict) else None
            given_id = event_id_ if isinstance(event_id_, str) else None
            if index in invalid:
                outcomes[index] = Outcome("rejected", given_id, *invalid[index])
                continue
            if event["source"] != source:
                reason = f"forbidden: an agency publishes only as itself ({source})"
                outcomes[index] = Outcome("rejected", given_id, "source", reason)
                continue
            problem = _raw_identifier(event)
            if problem is not None:
                outcomes[index] = Outcome("rejected", given_id, *problem)
                continue
            passed.append((index, event))
        return passed

    def _hub_stage(self, event: dict[str, Any]) -> dict[str, Any]:
        """The event as stored: every agency-stage pseudonym keyed again, the id derived anew."""
        stored = dict(event)
        stored["subject"] = self.rekey(event["subject"])
        stored["recordref"] = self.rekey(event["recordref"])
        stored["id"] = event_id(stored["recordref"], event["recordversion"])
        data = dict(event["data"])
        if "unit" in data:
            data["unit"] = self.rekey(data["unit"])
        if isinstance(data.get("referral"), dict):
            link = dict(data["referral"])
            link["recordref"] = self.rekey(link["recordref"])
            data["referral"] = link
        stored["data"] = data
        return stored


def _record(stored: dict[str, Any]) -> Record:
    return stored["source"], stored["recordref"]


def _sealed(stored: dict[str, Any], key: bytes) -> dict[str, Any]:
    """The event as appended: its personal payload replaced by the payload sealed."""
    clear = {name: value for name, value in stored.items() if name not in SEALED_FIELDS}
    payload = {name: stored[name] for name in SEALED_FIELDS}
    clear["sealed"] = seal(key, stored["source"], stored["id"], payload)
    return clear


def _schema_errors(events: Sequence[object]) -> dict[int, tuple[str, str]]:
    """The first schema error of each event that fails, by its index, checked as one batch."""
    try:
        AgencyBatchAdapter.validate_python(events)
    except ValidationError as exc:
        found: dict[int, tuple[str, str]] = {}
        for error in exc.errors(include_input=False, include_url=False):
            index = error["loc"][0]
            if isinstance(index, int) and index not in found:
                field, reason = describe_error({**error, "loc": error["loc"][1:]})
                found[index] = (field, reason)
        return found
    return {}


def _raw_identifier(event: dict[str, Any]) -> tuple[str, str] | None:
    """(field, reason) for the first coded or free-text field that holds a raw identifier."""
    fields: list[tuple[str, object]] = [("locality", event["locality"])]
    stack: list[tuple[str, object]] = [("data", event["data"])]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack += [(f"{path}.{k}", v) for k, v in value.items() if k not in PSEUDONYM_FIELDS]
        else:
            fields.append((path, value))
    for path, value in fields:
        if isinstance(value, str):
            kind = identifier_kind(value)
            if kind is not None:
                return path, f"looks like {kind}; raw identifiers never enter the hub"
    return None
