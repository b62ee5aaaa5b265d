"""Sealed payloads: each record's personal payload encrypted under a key of its own.

Why (crypto-shredding): the audit ledger hashes every stored event's bytes, so a stored event
may never change; and a Kafka topic cannot delete one record (retention or compaction would
need every copy of it gone, and the embedded log, the rejected log and the event store are
copies too). So ingest seals what an event says about the person, its `locality` and its
`data`, with AES-256-GCM under its record's key: one random 256-bit key per `(source,
recordref)`, made with the record's first event. Everything after ingest holds only the
ciphertext; erasing a record deletes its key, which makes every copy unreadable at once.

    keys = EmbeddedRecordKeys(Path("hub-data/record-keys.sqlite"))
    key = keys.get_or_create([(source, recordref)])[(source, recordref)]
    sealed = seal(key, source, event_id, {"locality": "north", "data": {...}})
    unseal(key, source, event_id, sealed)  # {"locality": "north", "data": {...}}

A key never appears in a log line or an error message.
"""

import base64
import binascii
import secrets
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from schemas.errors import HubError
from schemas.logged import SEALED_PATTERN as SEALED_PATTERN  # what `seal` returns

NONCE_BYTES = 12


class SealError(HubError):
    """A sealed payload that does not open: the message names the event, never a key."""


def seal(key: bytes, source: str, event_id: str, payload: dict[str, Any]) -> str:
    """`payload` as canonical JSON, encrypted under `key` and bound to the event: base64 of a
    fresh 96-bit nonce and the ciphertext."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    plain = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    sealed = AESGCM(key).encrypt(nonce, plain, _bound(source, event_id))
    return base64.b64encode(nonce + sealed).decode("ascii")


def unseal(key: bytes, source: str, event_id: str, sealed: str) -> dict[str, Any]:
    """The payload `seal` sealed; SealError if it was altered, moved to another event, or
    sealed under another key."""
    try:
        raw = base64.b64decode(sealed, validate=True)
        plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _bound(source, event_id))
    except (InvalidTag, binascii.Error, ValueError):
        raise SealError(
            f"the sealed payload of {source} event {event_id} does not open with its record's "
            "key: it was altered, or sealed for another event or record"
        ) from None
    payload: dict[str, Any] = orjson.loads(plain)
    return payload


def _bound(source: str, event_id: str) -> bytes:
    """The associated data: the event the payload belongs to."""
    return orjson.dumps([source, event_id])


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)
