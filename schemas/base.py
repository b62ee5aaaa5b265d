"""Building blocks shared by every model of the contract: strict times, codes, pseudonyms."""

import re
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, PlainValidator, WithJsonSchema

RFC3339_PATTERN = r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$"
)
_TIME_HINT = "must be an RFC 3339 time with seconds and an offset, such as 2024-03-05T14:30:00Z"


class Contract(BaseModel):
    """Base of every contract model: immutable, no unknown fields, refused values never echoed."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


def parse_rfc3339(value: object) -> datetime:
    """Parse a strict RFC 3339 time; refuse missing seconds, naive times and epoch numbers.

    >>> parse_rfc3339("2018-04-05T18:31:00+01:00").isoformat()
    '2018-04-05T18:31:00+01:00'
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("a time needs an offset (Z or +hh:mm)")
        return value
    if not isinstance(value, str):
        raise ValueError(_TIME_HINT)
    match = _RFC3339.match(value)
    if match is None:
        raise ValueError(_TIME_HINT)
    day, clock, fraction, zulu, sign, off_h, off_m = match.groups()
    if not zulu and (int(off_h) > 23 or int(off_m) > 59):
        raise ValueError("the offset must be between -23:59 and +23:59")
    if fraction is None and (zulu == "Z" or not zulu) and value[10] == "T":
        try:  # the common case: already in the form fromisoformat reads
            return datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("is not a real date and time") from None
    text = f"{day}T{clock}"
    if fraction:
        text += "." + fraction[:6].ljust(6, "0")
    text += "+00:00" if zulu else f"{sign}{off_h}:{off_m}"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("is not a real date and time") from None


def format_rfc3339(value: datetime) -> str:
    """Format a time as RFC 3339 with seconds, 'Z' for UTC."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


Rfc3339Time = Annotated[
    datetime,
    PlainValidator(parse_rfc3339),
    PlainSerializer(format_rfc3339, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": RFC3339_PATTERN}),
]
"""A time that must carry seconds and an offset: what CloudEvents and the hub require."""

CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
Code = Annotated[str, Field(pattern=CODE_PATTERN, strict=True)]
"""A code from the place file (need, locality, service...): lower-case letters, digits, hyphens."""

PSEUDONYM_PATTERN = r"^[0-9a-f]{64}$"
Pseudonym = Annotated[str, Field(pattern=PSEUDONYM_PATTERN, strict=True)]
"""An HMAC-SHA256 pseudonym as 64 lower-case hex characters."""

Text = Annotated[str, Field(min_length=1, max_length=500, strict=True)]
"""Short free text; the hub's ingest guards it against raw identifiers."""

Version = Annotated[int, Field(ge=1, le=2_147_483_647, strict=True)]
"""A positive version number (keys, records)."""
