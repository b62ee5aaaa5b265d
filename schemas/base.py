"""Building blocks shared by every model of the contract: strict times, codes, pseudonyms."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, WithJsonSchema
from pydantic_core import core_schema

RFC3339_PATTERN = r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
TIME_HINT = "must be an RFC 3339 time with seconds and an offset, such as 2024-03-05T14:30:00Z"


class Contract(BaseModel):
    """Base of every contract model: immutable, no unknown fields, refused values never echoed."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


def format_rfc3339(value: datetime) -> str:
    """Format a time as RFC 3339 with seconds, 'Z' for UTC."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class _StrictTime:
    """Validation of an RFC 3339 time done wholly inside pydantic-core (no Python call per value).

    JSON input must be a string matching RFC3339_PATTERN (seconds and an offset required), then
    it is parsed as an aware datetime, which refuses impossible dates and offsets. Python input
    may also be an aware datetime.
    """

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        from_text = core_schema.chain_schema(
            [
                core_schema.str_schema(pattern=RFC3339_PATTERN, strict=True),
                core_schema.datetime_schema(tz_constraint="aware"),
            ]
        )
        aware = core_schema.datetime_schema(tz_constraint="aware", strict=True)
        return core_schema.json_or_python_schema(
            json_schema=from_text,
            python_schema=core_schema.union_schema(
                [aware, from_text],
                mode="left_to_right",
                custom_error_type="rfc3339_time",
                custom_error_message=TIME_HINT,
            ),
            serialization=core_schema.plain_serializer_function_ser_schema(
                format_rfc3339, when_used="json"
            ),
        )


Rfc3339Time = Annotated[
    datetime,
    _StrictTime,
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
