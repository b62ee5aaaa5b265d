"""Ingest: check what an agency sends, key its pseudonyms again, drop repeats, seal, append.

    ingest = Ingest(log, SqliteSeen(path), hub_key, EmbeddedRecordKeys(keys_path), gateway)
    outcomes = ingest.submit("police-north", events)   # one Outcome per event, in order
    ingest.submit_validated("police-north", validated(events))  # the same, checked already

Each event is validated once (`schemas.submission.validated`) and its model kept: the hub-stage
event is a copy of it, and the entry is serialised once.

Each event comes out accepted, duplicate, or rejected with the field and the reason (never
the value). The hub's record time is added beside the agency's event time (`recordedat`). What
is appended names nobody: the agency-stage pseudonyms (person, record, unit)
are keyed again with the hub's own key (DOMAIN.md), and the event id is derived anew from the
hub-stage record pseudonym, so nothing the place key can reproduce is ever stored.

What is appended says nothing about the person in clear either: the event's `locality` and
`data` are sealed under its record's key (`hub.keys.sealing`, `sealed`: base64 of nonce and
ciphertext); only what routing and dedupe need stays in clear (the log entry is a
`schemas.logged.LoggedEvent`, appended in the CloudEvents Kafka binding's binary content mode:
its clear fields also as `ce_*` headers, `LoggedEvent.binding_headers`). The log cannot forget
one record (Kafka deletes only whole segments, by retention), so erasure deletes the key instead
and every copy (log, rejected log, store) becomes unreadable at once. A record once erased
takes no new events.

Every record appended carries the gateway's authenticator (`hub.log.authenticator`, one HMAC
a record, its `hub-auth` header): the worker applies only entries that carry it, so an entry
anyone else wrote to the log is set aside, never applied.
"""

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from pydantic import BaseModel

from connectors.pseudonym import keyed_sha256
from hub.ingest.guard import identifier_kind
from hub.ingest.seen import Seen
from hub.keys.port import Record, RecordKeys
from hub.keys.sealing import seal
from hub.log import Authenticator, EventLog, LogRecord
from schemas.errors import HubError
from schemas.events import AnyAgencyEvent, RecordLink, agency_urn, event_id
from schemas.logged import LoggedEvent
from schemas.submission import Outcome, validated

PSEUDONYM_FIELDS = frozenset({"unit", "recordref"})  # in `data`, at any depth
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
        gateway: Authenticator,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """`gateway`: signs every record appended (the worker sets aside what it did not)."""
        if len(hub_key) < 32:
            raise HubError("the hub key must be at least 32 bytes", field="hub key")
        self._log, self._seen, self._keys, self._clock = log, seen, keys, clock
        self._signed = gateway.signed
        self._digest = keyed_sha256(hub_key)

    def rekey(self, pseudonym: str) -> str:
        """The hub-stage pseudonym: HMAC-SHA256(hub key, agency-stage pseudonym)."""
        return self._digest(pseudonym.encode()).hex()

    def submit(self, agency: str, events: Sequence[object]) -> list[Outcome]:
        """Take a batch from `agency`; return one Outcome per event, in the order given."""
        return self.submit_validated(agency, validated(events))

    def submit_validated(
        self, agency: str, checked: Sequence[AnyAgencyEvent | Outcome]
    ) -> list[Outcome]:
        """`submit` for a batch already through `validated` (the API's): each event its
        model, or the rejection it already has."""
        prepared = self.prepare(agency, checked)
        if prepared.records:
            self._log.append(prepared.records)
        self.settle(prepared)
        return prepared.outcomes

    def prepare(self, agency: str, checked: Sequence[AnyAgencyEvent | Outcome]) -> "Prepared":
        """Everything of `submit_validated` but the append: each event's outcome, and the
        signed records of those accepted. Their record keys are made now (before any commit);
        nothing is marked seen until `settle`. The gateway appends the records in its own
        Kafka transaction and settles after it commits."""
        outcomes: list[Outcome | None] = [None] * len(checked)
        pending: dict[tuple[str, str], tuple[int, _Staged]] = {}
        for index, event in self._checked(agency, checked, outcomes):
            staged = self._hub_stage(event)
            key = (staged.source, staged.id)
            if key in pending:
                outcomes[index] = Outcome("duplicate", event.id)
            else:
                pending[key] = (index, staged)
        for key in self._seen.known(pending):
            index, _ = pending.pop(key)
            outcomes[index] = Outcome("duplicate", checked[index].id)
        keys = self._keys.get_or_create({_record(s) for _, s in pending.values()})
        for key in [k for k, (_, s) in pending.items() if _record(s) not in keys]:
            index, _ = pending.pop(key)
            outcomes[index] = Outcome("rejected", checked[index].id, "recordref", ERASED)
        records: list[LogRecord] = []
        if pending:
            recorded_at = self._clock()
            entries = [_logged(s, keys[_record(s)], recorded_at) for _, s in pending.values()]
            signed = self._signed
            records = [signed(e.subject, e.to_json(), e.binding_headers()) for e in entries]
        for index, _ in pending.values():
            outcomes[index] = Outcome("accepted", checked[index].id)
        return Prepared(
            [o if o is not None else Outcome("rejected", reason="not checked") for o in outcomes],
            records,
            list(pending),
            {_record(s) for _, s in pending.values()},
        )

    def settle(self, prepared: "Prepared") -> None:
        """After `prepared.records` are safely in the log: mark its events seen (a repeat from
        now on is a duplicate) and its record keys in use (never swept)."""
        if prepared.accepted:
            self._seen.remember(prepared.accepted)
            self._keys.confirm(prepared.used)

    def _checked(
        self,
        agency: str,
        checked: Sequence[AnyAgencyEvent | Outcome],
        outcomes: list[Outcome | None],
    ) -> list[tuple[int, AnyAgencyEvent]]:
        """The events that pass schema, source and raw-identifier checks; the others rejected."""
        source = agency_urn(agency)
        passed = []
        for index, event in enumerate(checked):
            if isinstance(event, Outcome):
                outcomes[index] = event
                continue
            if event.source != source:
                reason = f"forbidden: an agency publishes only as itself ({source})"
                outcomes[index] = Outcome("rejected", event.id, "source", reason)
                continue
            problem = _raw_identifier(event)
            if problem is not None:
                outcomes[index] = Outcome("rejected", event.id, *problem)
                continue
            passed.append((index, event))
        return passed

    def _hub_stage(self, event: AnyAgencyEvent) -> "_Staged":
        """The event as stored: every agency-stage pseudonym keyed again, the id derived anew."""
        recordref = self.rekey(event.recordref)
        data = event.data
        fields = data.__dict__  # its attributes, without pydantic's lookup of missing ones
        again: dict[str, Any] = {}
        if "unit" in fields:
            again["unit"] = self.rekey(fields["unit"])
        link = fields.get("referral")
        if isinstance(link, RecordLink):
            again["referral"] = link.model_copy(update={"recordref": self.rekey(link.recordref)})
        return _Staged(
            event,
            event.source,
            event_id(recordref, event.recordversion),
            self.rekey(event.subject),
            recordref,
            data.model_copy(update=again) if again else data,
        )


class Prepared(NamedTuple):
    """A batch through `Ingest.prepare`: what to append, and what to settle once appended."""

    outcomes: list[Outcome]
    """One per event, in the order given."""
    records: list[LogRecord]
    """The accepted events' log records, signed (empty if none was accepted)."""
    accepted: list[tuple[str, str]]
    """Their (source, hub event id) pairs, for the duplicate set."""
    used: set[Record]
    """Their records, whose keys they are sealed under."""


class _Staged(NamedTuple):
    """An event at the hub stage: its validated model, and what the hub stage changes in it
    (a tuple beside the model rather than a copy of it: copying every event costs more)."""

    event: AnyAgencyEvent
    source: str
    id: str
    subject: str
    recordref: str
    data: BaseModel


def _record(staged: _Staged) -> Record:
    return staged.source, staged.recordref


def _logged(staged: _Staged, key: bytes, recorded_at: datetime) -> LoggedEvent:
    """The log entry of a hub-stage event: its personal payload (`locality`, `data`, as the
    agency gave them) sealed under its record's key, the rest in clear. (Built checked: from
    Python values that costs no more than model_construct, and catches a naive clock.)"""
    event = staged.event
    payload = {
        "locality": event.locality,
        "data": staged.data.model_dump(mode="json", exclude_unset=True),
    }
    return LoggedEvent(
        id=staged.id,
        source=staged.source,
        type=event.type,
        subject=staged.subject,
        time=event.time,
        recordref=staged.recordref,
        recordversion=event.recordversion,
        recordedat=recorded_at,
        keyversion=event.keyversion,
        sealed=seal(key, staged.source, staged.id, payload),
    )


def _raw_identifier(event: AnyAgencyEvent) -> tuple[str, str] | None:
    """(field, reason) for the first coded or free-text field that holds a raw identifier."""
    fields: list[tuple[str, object]] = [("locality", event.locality)]
    stack: list[tuple[str, object]] = [("data", event.data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, BaseModel):
            items = value.__dict__.items()
            stack += [(f"{path}.{k}", v) for k, v in items if k not in PSEUDONYM_FIELDS]
        else:
            fields.append((path, value))
    for path, value in fields:
        if isinstance(value, str):
            kind = identifier_kind(value)
            if kind is not None:
                return path, f"looks like {kind}; raw identifiers never enter the hub"
    return None
