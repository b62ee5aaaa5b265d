"""The log's authenticator: what marks an entry as written by the hub's gateway (its ingest).

Anyone who may write the log's topic could append an entry of the right shape; only the hub
holds the gateway key (`gateway-key.toml`), so only the hub can give an entry an authenticator
that matches. Ingest signs every record it appends, and so does `hub rejected resend`; the
worker sets aside an entry whose authenticator is missing, malformed or does not match.

    gateway = Authenticator(own_key(folder.gateway_key, "gateway key"))
    log.append(gateway.sign_all(records))     # each record gains a `hub-auth` header
    record = gateway.signed(key, value, headers)  # one record, built signed
    problem = gateway.problem(entry)          # None, or the reason it is not the hub's

The authenticator is the record header `hub-auth` (not a CloudEvents `ce_*` attribute): the
lowercase hex of HMAC-SHA256(gateway key, message), 64 characters, where the message is, with
every length a 4-byte unsigned big-endian integer and every text UTF-8:

    b"hub-auth.v1\\n"
    len(key)    key                  # the record's key (the person's pseudonym)
    len(value)  value                # the record's value, the bytes as appended
    count                            # how many headers follow
    for each header but `hub-auth`, in the record's order (a repeated name repeated):
        len(name)   name
        len(value)  value

So the key, the value, every other header's name, value and place are all covered; one
added, dropped, changed or moved makes another message. The entry's partition and offset are
not: where an entry lands is the log's doing. A copy of a signed entry appended again is the
same event again, which the worker applies once (an event already in a journey is a no-op).
"""

import hashlib
import hmac
from collections.abc import Sequence
from struct import Struct

from hub.log.port import Headers, LogEntry, LogRecord
from schemas.errors import HubError

HEADER = "hub-auth"
"""The record header holding the authenticator."""
CONTEXT = b"hub-auth.v1\n"
"""What every message starts with: another use of the same key can never give the same one."""
MISSING = "not written by the hub's gateway: its authenticator is missing (no `hub-auth` header)"
MALFORMED = (
    "not written by the hub's gateway: its authenticator is malformed (one `hub-auth` header "
    "of 64 hex digits expected)"
)
MISMATCH = (
    "not written by the hub's gateway: its authenticator does not match (written with another "
    "key, or changed since)"
)
_LENGTH = Struct(">I").pack
_HEX = frozenset(b"0123456789abcdef")
_NAMES: dict[str, bytes] = {}


def message(key: str, value: bytes, headers: Headers) -> bytes:
    """The bytes the authenticator is computed over (see the module docstring); `headers`
    named `hub-auth` are left out."""
    return _message(key, value, headers)[0]


def _message(key: str, value: bytes, headers: Headers) -> tuple[bytes, int]:
    """The message, and how many headers it covers."""
    encoded = key.encode("utf-8")
    parts = [CONTEXT, _LENGTH(len(encoded)), encoded, _LENGTH(len(value)), value, b""]
    count = 0
    for name, header in headers:
        if name != HEADER:
            parts += (_NAMES.get(name) or _name(name), _LENGTH(len(header)), header)
            count += 1
    parts[5] = _LENGTH(count)
    return b"".join(parts), count


def _name(name: str) -> bytes:
    """A header name as the message holds it (length and UTF-8), kept for the next record:
    the names are few (the binding's attributes)."""
    encoded = name.encode("utf-8")
    field = _LENGTH(len(encoded)) + encoded
    if len(_NAMES) < 1024:
        _NAMES[name] = field
    return field


class Authenticator:
    """Signs log records and checks log entries with the gateway key; see the module docstring."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise HubError("the gateway key must be at least 32 bytes", field="gateway key")
        self._mac = hmac.new(key, digestmod=hashlib.sha256)

    def tag(self, key: str, value: bytes, headers: Headers) -> bytes:
        """The authenticator of a record, as its `hub-auth` header holds it (hex, ASCII)."""
        return self._tag(_message(key, value, headers)[0])

    def _tag(self, data: bytes) -> bytes:
        mac = self._mac.copy()  # the key's HMAC state, made once
        mac.update(data)
        return mac.hexdigest().encode("ascii")

    def signed(self, key: str, value: bytes, headers: Headers = ()) -> LogRecord:
        """The record of `key`, `value` and `headers` with its authenticator as its last
        header (any `hub-auth` among `headers` replaced)."""
        data, count = _message(key, value, headers)
        if count != len(headers):
            headers = tuple(h for h in headers if h[0] != HEADER)
        return LogRecord(key, value, (*headers, (HEADER, self._tag(data))))

    def sign(self, record: LogRecord) -> LogRecord:
        """`record` signed (see `signed`)."""
        return self.signed(record.key, record.value, record.headers)

    def sign_all(self, records: Sequence[LogRecord]) -> list[LogRecord]:
        """Every record of a batch signed, in order."""
        return [self.sign(record) for record in records]

    def problem(self, entry: LogEntry) -> str | None:
        """None if `entry` carries the authenticator the gateway key gives it; else why not
        (never quoting the entry)."""
        given = [value for name, value in entry.headers if name == HEADER]
        if not given:
            return MISSING
        if len(given) != 1 or len(given[0]) != 64 or not _HEX.issuperset(given[0]):
            return MALFORMED
        if not hmac.compare_digest(given[0], self.tag(entry.key, entry.value, entry.headers)):
            return MISMATCH
        return None
