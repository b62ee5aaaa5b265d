"""The mapping file that tells the CSV connector how to read one agency's extract.

A mapping (TOML) names the columns that carry the envelope, which rows are which event type,
which column fills each data field, and how the agency's own codes become the place's codes::

    agency = "police-north"
    time_formats = ["%d/%m/%Y %H:%M", "%d/%m/%Y"]

    [columns]
    record_ref = "Occurrence Ref"
    record_version = "Version"
    identifier = "NHS No"
    time = "Date/Time"
    locality = "Beat"
    event_type = "Activity"

    [event_types]
    "REFERRAL" = "hub.referral.made.v1"

    [fields."hub.referral.made.v1"]
    to_agency = "Referred To"
    need = "Concern"
    urgency = "Priority"

    [codes.need]
    "DA" = "domestic-abuse"

Columns the mapping does not name (names, dates of birth, addresses) are never read.
"""

import codecs
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemas.base import Code
from schemas.errors import ContractError
from schemas.events import AGENCY_EVENT_TYPES
from schemas.place import Place
from schemas.validation import describe

ColumnName = Annotated[str, Field(min_length=1)]

# Data fields whose values are agency references (mapped through codes.agency, then a URN),
# record references (pseudonymised under the agency in `<field>.source`), unit references,
# numbers, and place codes checked against the place file.
AGENCY_FIELDS = frozenset({"to_agency", "redirect_agency", "referral.source"})
RECORD_FIELDS = frozenset({"referral.recordref"})
UNIT_FIELDS = frozenset({"unit"})
NUMBER_FIELDS = frozenset({"value"})
PLACE_CODE_FIELDS = {
    "need": "needs",
    "purpose": "purposes",
    "domain": "assessment_domains",
    "instrument": "instruments",
    "service": "services",
    "outcome": "outcomes",
}


class MappingError(ContractError):
    """A mapping file that is unreadable or does not fit the place."""


class CellError(ContractError):
    """One cell of an extract that the mapping cannot convert; `field` is the data field (or
    `time`), and the message says why, without the value."""


class Columns(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    record_ref: ColumnName
    record_version: ColumnName | None = None
    identifier: ColumnName
    time: ColumnName
    locality: ColumnName
    event_type: ColumnName


class Mapping(BaseModel):
    """One agency's mapping, checked against the place it publishes to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agency: Code
    encoding: str = "utf-8-sig"
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ","
    identifier_kind: Literal["nhs-number", "local"] = "nhs-number"
    time_formats: Annotated[list[str], Field(min_length=1)] = ["iso"]
    columns: Columns
    event_types: Annotated[dict[str, str], Field(min_length=1)]
    fields: dict[str, dict[str, ColumnName]] = {}
    constants: dict[str, dict[str, str]] = {}
    codes: dict[str, dict[str, str]] = {}

    def check_against(self, place: Place) -> None:
        """Raise a MappingError listing every way this mapping does not fit the place."""
        problems: list[str] = []
        if self.agency not in place.agency_slugs:
            problems.append(f"agency: {self.agency!r} is not an agency of the place")
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            problems.append(f"encoding: {self.encoding!r} is not a known text encoding")
        for value, type_name in self.event_types.items():
            if type_name not in AGENCY_EVENT_TYPES:
                problems.append(f"event_types.{value!r}: {type_name!r} is not a hub event type")
        for section in ("fields", "constants"):
            for type_name, fields in getattr(self, section).items():
                if type_name not in AGENCY_EVENT_TYPES:
                    problems.append(f"{section}: {type_name!r} is not a hub event type")
                    continue
                known = data_field_names(type_name)
                problems += [
                    f"{section}.{type_name!r}.{f}: {type_name} has no data field {f!r}"
                    for f in fields
                    if f not in known
                ]
        targets: dict[str, set[str | None] | set[str]] = {
            "agency": place.agency_slugs,
            "locality": place.locality_codes,
            **{
                field: {getattr(item, "code", None) for item in getattr(place, attr)}
                for field, attr in PLACE_CODE_FIELDS.items()
            },
        }
        for name, table in self.codes.items():
            allowed = targets.get(name)
            if allowed is None:
                continue
            problems += [
                f"codes.{name}.{source!r}: {target!r} is not a {name} code of the place"
                for source, target in table.items()
                if target not in allowed
            ]
        if problems:
            raise MappingError("the mapping does not fit the place:\n  " + "\n  ".join(problems))

    def used_columns(self) -> set[str]:
        """Every column the mapping reads."""
        used = {c for c in self.columns.model_dump().values() if c is not None}
        for fields in self.fields.values():
            used.update(fields.values())
        return used


def data_field_names(type_name: str) -> set[str]:
    """The data fields of an event type as dotted paths (`referral.source`)."""
    data_model = AGENCY_EVENT_TYPES[type_name].model_fields["data"].annotation
    names: set[str] = set()
    for name, info in data_model.model_fields.items():  # type: ignore[union-attr]
        nested = info.annotation
        inner = getattr(nested, "__args__", (nested,))
        model = next((t for t in inner if isinstance(t, type) and issubclass(t, BaseModel)), None)
        if model is None:
            names.add(name)
        else:
            names.update(f"{name}.{sub}" for sub in model.model_fields)
    return names


def load_mapping(path: Path, place: Place) -> Mapping:
    """Read a mapping file and check it against the place; errors name the key and the reason."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise MappingError(f"{path}: cannot read the mapping ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: not valid TOML: {exc}") from None
    try:
        mapping = Mapping.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{field}: {reason}" for field, reason in describe(exc)]
        raise MappingError(f"{path}: the mapping is not valid:\n  " + "\n  ".join(lines)) from None
    try:
        mapping.check_against(place)
    except MappingError as exc:
        raise MappingError(f"{path}: {exc}") from None
    return mapping
