"""The CloudEvents 1.0 envelope in structured JSON mode, single events and batches."""

import re
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter, model_validator

from schemas.base import Contract, Rfc3339Time

NonEmpty = Annotated[str, Field(min_length=1, strict=True)]
MediaType = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(\s*;.*)?$", strict=True)
]
AbsoluteUri = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$", strict=True)]
UriReference = Annotated[str, Field(pattern=r"^\S+$", strict=True)]

_EXTENSION_NAME = re.compile(r"^[a-z0-9]{1,20}$")
_INT32 = range(-(2**31), 2**31)
_DIGITS = re.compile(r"[0-9]{1,18}")  # ASCII only: str.isdigit() takes "²", which int() refuses

INTEGER_ATTRIBUTES = frozenset({"recordversion", "keyversion"})
"""The hub's extension attributes that are integers. A binding that carries attributes as text
(HTTP `ce-*` headers, Kafka `ce_*` headers) gives them as digits: `attribute_from_text`."""


def attribute_from_text(name: str, text: str) -> str | int:
    """An attribute's value from a binary-mode header: an integer attribute strictly 1 to 18
    ASCII digits, as an int; any other attribute the text itself (an integer or boolean
    extension the hub does not know stays text, which CloudEvents allows for any extension).

    Raises ValueError saying what the value must be, never repeating it.

        >>> attribute_from_text("recordversion", "2"), attribute_from_text("type", "2")
        (2, '2')
    """
    if name not in INTEGER_ATTRIBUTES:
        return text
    if _DIGITS.fullmatch(text) is None:
        raise ValueError("must be a whole number: 1 to 18 ASCII digits (0-9), nothing else")
    return int(text)


class CloudEventCore(Contract):
    """The core context attributes of CloudEvents 1.0, shared by every envelope of the hub."""

    specversion: Literal["1.0"]
    id: NonEmpty
    source: UriReference
    type: NonEmpty
    datacontenttype: MediaType | None = None
    dataschema: AbsoluteUri | None = None
    subject: NonEmpty | None = None
    time: Rfc3339Time | None = None


class CloudEvent(CloudEventCore):
    """Any CloudEvents 1.0 event: the core attributes checked, extensions checked by name and type.

    >>> CloudEvent.model_validate({"specversion": "1.0", "id": "1", "source": "#a", "type": "t"}).id
    '1'
    """

    model_config = ConfigDict(extra="allow", frozen=True, hide_input_in_errors=True)

    data: Any = None
    data_base64: Annotated[str, Field(strict=True)] | None = None

    @model_validator(mode="after")
    def check_data_and_extensions(self) -> "CloudEvent":
        if "data" in self.model_fields_set and self.data_base64 is not None:
            raise ValueError("an event carries data or data_base64, not both")
        for name, value in (self.model_extra or {}).items():
            if not _EXTENSION_NAME.match(name):
                raise ValueError(  # the name is never repeated: it may be the value
                    "an extension attribute's name must be 1-20 lower-case letters or digits"
                )
            if value is None or isinstance(value, str | bool):
                continue
            if not isinstance(value, int) or value not in _INT32:
                raise ValueError(
                    "an extension attribute must be a string, boolean or 32-bit integer"
                )
        return self


CloudEventBatch: TypeAdapter[list[CloudEvent]] = TypeAdapter(
    list[CloudEvent], config=ConfigDict(hide_input_in_errors=True)
)
"""A batch (application/cloudevents-batch+json): a JSON array of events."""
