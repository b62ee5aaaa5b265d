"""Issue 14: what answers a caller names an unknown key by its parent, never by itself (its name
may be the value: an NHS number, an email); a cut given twice is refused."""

from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from projections.asked import QuestionError, parse_cuts
from schemas.events import AgencyEventAdapter
from schemas.submission import validated
from tests.unit.test_events import EXAMPLES, _event

NHS = "9434765919"


def _referral(**change: Any) -> dict[str, Any]:
    return _event("hub.referral.made.v1", EXAMPLES["hub.referral.made.v1"], **change)


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (_referral() | {NHS: "x"}, "(event)"),
        (_referral() | {"jo@example.com": "x"}, "(event)"),
        (_referral() | {"data": dict(EXAMPLES["hub.referral.made.v1"], **{NHS: "x"})}, "data"),
    ],
)
def test_an_unknown_key_is_named_by_its_parent_in_what_answers_a_caller(
    event: dict[str, Any], field: str
) -> None:
    (outcome,) = validated([event])
    assert (getattr(outcome, "status", None), getattr(outcome, "field", None)) == (
        "rejected",
        field,
    )
    assert "unknown attribute" in str(outcome.reason)  # type: ignore[union-attr]
    assert NHS not in repr(outcome)
    assert "jo@" not in repr(outcome)
    with pytest.raises(ValidationError):
        AgencyEventAdapter.validate_json(orjson.dumps(event))


def test_a_cut_given_twice_is_refused_naming_by() -> None:
    with pytest.raises(QuestionError) as caught:
        parse_cuts("need, locality,need")
    assert caught.value.field == "by"
