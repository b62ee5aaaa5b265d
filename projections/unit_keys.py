"""The permanent record keys of counted units, for the cell key method (DOMAIN.md,
"Disclosure control"): each unit a question counts has a key in 0..255 from a keyed hash
(BLAKE2b in its keyed mode, one byte) under the disclosure key, which only the hub holds.

    keys = UnitKeys(disclosure_key)
    keys.record("police-north", "R-1")   # an event, referral or episode: kept by corrections
    keys.person("8b0c…")                  # a person: from the journey's stable id

A cell's key is the sum of its units' keys mod 256 (`KEY_RANGE`), worked out in DuckDB beside
each count; its noise comes from the ptable by cell value and cell key. The facts table carries
each row's `record_key` and `person_key`, filled at load (`projections.facts.insert_facts`).
"""

import hashlib
from functools import lru_cache

from schemas.errors import HubError

KEY_RANGE = 256
SEPARATOR = b"\x1f"


class UnitKeys:
    """Record keys 0..255 of events (by agency and record reference) and of people."""

    def __init__(self, disclosure_key: bytes) -> None:
        if not isinstance(disclosure_key, bytes) or len(disclosure_key) < 16:
            raise HubError("the disclosure key must be at least 16 bytes")
        self._key = disclosure_key
        self.person = lru_cache(maxsize=1 << 20)(self._person)

    def _digest(self, kind: bytes, *parts: str) -> int:
        message = SEPARATOR.join([kind, *(part.encode("utf-8") for part in parts)])
        return hashlib.blake2b(message, key=self._key, digest_size=1).digest()[0]

    def record(self, agency: str, recordref: str) -> int:
        """The key of an agency's record: every version of it (a correction) keeps it."""
        return self._digest(b"record", agency, recordref)

    def _person(self, person: str) -> int:
        return self._digest(b"person", person)
