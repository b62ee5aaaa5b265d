"""How each data field of an event type is read from an extract row: its column (or constant)
and the conversion from the agency's value to the contract's (place codes, agency URNs, units).

    plans = field_plans("hub.referral.made.v1", mapping, place, pseudonymiser, header_index)
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.mapping import (
    AGENCY_FIELDS,
    NUMBER_FIELDS,
    PLACE_CODE_FIELDS,
    UNIT_FIELDS,
    CellError,
    Mapping,
    data_field_names,
)
from connectors.pseudonym import Pseudonymiser
from schemas.events import agency_urn
from schemas.place import Place


@dataclass(frozen=True)
class FieldPlan:
    """One data field: where its value comes from and how it is converted."""

    path: str  # dotted data field, e.g. "referral.source"
    column: str | None  # None for a constant
    index: int
    constant: str | None
    convert: Callable[[str], Any]

    @property
    def head(self) -> str:
        return self.path.partition(".")[0]

    @property
    def tail(self) -> str:
        return self.path.partition(".")[2]


def field_plans(
    type_name: str,
    mapping: Mapping,
    place: Place,
    pseudonymiser: Pseudonymiser,
    index: dict[str, int],
) -> list[FieldPlan]:
    """The plans for every data field the mapping fills for `type_name`, agency fields first
    (a record reference is keyed under the agency it belongs to)."""
    columns = mapping.fields.get(type_name, {})
    constants = mapping.constants.get(type_name, {})
    plans = []
    for path in sorted(data_field_names(type_name), key=lambda p: p not in AGENCY_FIELDS):
        convert = converter(path, mapping, place, pseudonymiser)
        if path in columns:
            column = columns[path]
            plans.append(FieldPlan(path, column, index[column], None, convert))
        elif path in constants:
            plans.append(FieldPlan(path, None, -1, constants[path], convert))
    return plans


def converter(
    path: str, mapping: Mapping, place: Place, pseudonymiser: Pseudonymiser
) -> Callable[[str], Any]:
    """The conversion of one data field's cell; a CellError says why a value is refused."""
    leaf = path.rsplit(".", 1)[-1]
    table = mapping.codes.get("agency" if path in AGENCY_FIELDS else leaf, {})
    if path in AGENCY_FIELDS:
        agencies = place.agency_slugs

        def to_agency(value: str) -> str:
            slug = table.get(value, value)
            if slug not in agencies:
                raise CellError(
                    "is not an agency of the place; map it in [codes.agency]", field=path
                )
            return agency_urn(slug)

        return to_agency
    if path in UNIT_FIELDS:
        return lambda value: pseudonymiser.unit(mapping.agency, value)
    if path in NUMBER_FIELDS:

        def to_number(value: str) -> float:
            try:
                return float(value)
            except ValueError:
                raise CellError("is not a number", field=path) from None

        return to_number
    attr = PLACE_CODE_FIELDS.get(leaf)
    allowed = None if attr is None else {getattr(i, "code", None) for i in getattr(place, attr)}

    def to_code(value: str) -> str:
        code = table.get(value, value)
        if allowed is not None and code not in allowed:
            reason = f"is not a {leaf} code of the place; map it in [codes.{leaf}]"
            raise CellError(reason, field=path)
        return code

    return to_code
