"""What becomes of each event an agency submits, and the schema check every one passes once.

checked = validated(events)   # each event as its model, or its rejection
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError

from schemas.events import AgencyEventAdapter, AnyAgencyEvent
from schemas.validation import describe

Status = Literal["accepted", "duplicate", "rejected"]


@dataclass(frozen=True)
class Outcome:
    """What became of one submitted event; `id` is the agency's own event id where it had one."""

    status: Status
    id: str | None = None
    field: str | None = None
    reason: str | None = None


def validated(events: Sequence[object]) -> list[AnyAgencyEvent | Outcome]:
    """Each event as its model, or rejected with its first schema error (the field and the
    reason, never the value). Each event is validated on its own, so a batch with one bad
    event keeps the models of the others: nothing is validated twice."""
    check = AgencyEventAdapter.validate_python
    checked: list[AnyAgencyEvent | Outcome] = []
    for event in events:
        try:
            checked.append(check(event))
        except ValidationError as error:
            given = event.get("id") if isinstance(event, dict) else None
            field, reason = describe(error, hide_unknown=True)[0]
            checked.append(
                Outcome("rejected", given if isinstance(given, str) else None, field, reason)
            )
    return checked
