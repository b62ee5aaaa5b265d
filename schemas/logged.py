"""The logged event: one entry of the hub's event log, as ingest appends it and the worker reads it.

It is an agency event at the hub stage (`hub.ingest`): every pseudonym keyed again with the
hub's key, the id derived anew, the time the hub recorded it beside the agency's time, and its
personal payload (`locality` and `data`) sealed under its record's key (`hub.keys.sealing`).
Only what routing, dedupe and the journey need stays in clear. Nothing else may be in an
entry: one with a field of any other name is refused (and set aside by the worker).

    entry = LoggedEvent.model_validate_json(value)   # the worker, once per entry
    value = entry.to_json()                          # ingest, once per event
    headers = entry.binding_headers()                # ingest: the record's binary-mode headers

In the log, an entry is a CloudEvent in the Kafka binding's binary content mode
(`schemas.kafka_binding`): its clear fields as `ce_*` headers and the entry itself, as JSON,
its data. The value stays the whole entry, so a reader needs only the value.
"""

from typing import Annotated, Any

import orjson
from pydantic import Field, field_validator, model_validator

from schemas.base import Contract, Pseudonym, Rfc3339Time, Version
from schemas.events import AGENCY_EVENT_TYPES, AgencyUrn, EventId

SEALED_PATTERN = r"^[A-Za-z0-9+/]{40,}={0,2}$"  # base64 of nonce || ciphertext || 16-byte tag
Sealed = Annotated[str, Field(pattern=SEALED_PATTERN, strict=True)]
"""A payload as `hub.keys.sealing.seal` seals it: base64 of nonce and ciphertext."""
BEFORE_THE_CONTRACT = ("specversion", "datacontenttype", "dataschema")
"""CloudEvents attributes that entries appended before this contract carried (ingest copied the
agency's envelope): constants that say nothing about the event. An entry still in a log from
then is read without them, so upgrading the hub sets none of them aside."""


class LoggedEvent(Contract):
    """One entry of the event log; see the module docstring."""

    id: EventId
    """The hub-stage event id: the hub-stage record pseudonym and the record version."""
    source: AgencyUrn
    type: str
    """The agency event type (`hub.referral.made.v1`): in clear, for objections."""
    subject: Pseudonym
    """The person's hub-stage pseudonym; also the entry's key."""
    time: Rfc3339Time
    """When it happened at the agency."""
    recordref: Pseudonym
    """The record's hub-stage pseudonym."""
    recordversion: Version
    recordedat: Rfc3339Time
    """When the hub recorded it (ingest's clock)."""
    keyversion: Version
    """The version of the agency's place key its pseudonyms were made with."""
    sealed: Sealed
    """`locality` and `data`, sealed under the record's key."""

    @model_validator(mode="before")
    @classmethod
    def _older_entry(cls, value: Any) -> Any:
        if isinstance(value, dict) and any(name in value for name in BEFORE_THE_CONTRACT):
            return {k: v for k, v in value.items() if k not in BEFORE_THE_CONTRACT}
        return value

    @field_validator("type")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in AGENCY_EVENT_TYPES:
            raise ValueError("is not a known agency event type")
        return value

    def to_json(self) -> bytes:
        """The entry's bytes, as the log holds them: the same as `model_dump_json` (times in
        RFC 3339, 'Z' for UTC), in one orjson call instead of a Python call per time."""
        return orjson.dumps(self.__dict__, option=orjson.OPT_UTC_Z)

    def binding_headers(self) -> tuple[tuple[str, bytes], ...]:
        """The entry's record headers in the Kafka binding's binary content mode: every clear
        field but `sealed` as a `ce_*` attribute (the entry's own fields as extensions) and
        `content-type: application/json`; what `kafka_binding.to_binary` gives for the same
        attributes, built directly (ingest calls it once per event). The times are formatted by
        orjson, as `to_json` formats them: the same text, at a tenth of `isoformat`'s cost on
        pydantic's time zones."""
        f = self.__dict__
        return (
            ("ce_specversion", b"1.0"),
            ("ce_id", f["id"].encode()),
            ("ce_source", f["source"].encode()),
            ("ce_type", f["type"].encode()),
            ("ce_subject", f["subject"].encode()),
            ("ce_time", orjson.dumps(f["time"], option=orjson.OPT_UTC_Z)[1:-1]),
            ("ce_recordref", f["recordref"].encode()),
            ("ce_recordversion", b"%d" % f["recordversion"]),
            ("ce_recordedat", orjson.dumps(f["recordedat"], option=orjson.OPT_UTC_Z)[1:-1]),
            ("ce_keyversion", b"%d" % f["keyversion"]),
            ("content-type", b"application/json"),
        )
