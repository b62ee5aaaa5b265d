"""How a question is asked (`by`, `from`, `to`): one parser for the CLI, the API and the
auditor's commands, each refusal a QuestionError naming its field. Auditors ask any span of whole
months; commissioners and stewards only a period of the grid (`tests/unit/test_periods.py`)."""

import pytest

from hub.audit.auditor import cell_of
from hub.audit.replay import ReplayError
from projections.asked import EVERYTHING, QuestionError, check_period, parse_cuts, parse_period
from projections.periods import asked_period
from projections.questions import QUESTIONS
from schemas.errors import ContractError, HubError, PlaceError


def test_cuts_are_comma_separated_names_with_spaces_and_empty_ones_dropped() -> None:
    assert parse_cuts("locality, need,,") == ["locality", "need"]
    assert parse_cuts("") == parse_cuts(None) == []


def test_a_period_is_both_months_or_neither() -> None:
    assert parse_period("2024-01", "2024-12") == ("2024-01", "2024-12")
    assert parse_period(None, None) is None
    assert parse_period("", "") is None
    assert check_period(None) == EVERYTHING


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2024-01", None, "to"),
        (None, "2024-12", "from"),
        ("2024-1", "2024-12", "from"),
        ("2024-01", "2024-13", "to"),
        ("2025-01", "2024-12", "from"),
    ],
)
def test_a_period_refused_names_its_field(start: str | None, end: str | None, field: str) -> None:
    with pytest.raises(QuestionError) as refused:
        parse_period(start, end)
    assert (refused.value.status, refused.value.field) == (422, field)


@pytest.mark.parametrize(("start", "end"), [("2024-01", "2024-05"), ("2024-02", "2025-01")])
def test_a_span_an_auditor_may_ask_a_commissioner_may_not(start: str, end: str) -> None:
    assert parse_period(start, end) == (start, end)  # exact figures, for auditors only
    with pytest.raises(QuestionError) as refused:
        asked_period(None, start, end)  # controlled figures: one grid period or none
    assert (refused.value.status, refused.value.field) == (422, "from")


def test_a_span_that_is_one_grid_period_is_asked_the_same_by_both() -> None:
    assert parse_period("2024-04", "2025-03") == ("2024-04", "2025-03")
    grid = asked_period(None, "2024-04", "2025-03")
    assert grid is not None
    assert (grid.label, grid.months) == ("FY2024-25", ("2024-04", "2025-03"))


def test_a_cut_the_question_does_not_allow_names_the_field_by() -> None:
    with pytest.raises(QuestionError) as refused:
        QUESTIONS["waits"].columns(["locality"])
    assert refused.value.field == "by"


def test_an_error_carries_its_status_and_field_its_kind_gives_by_default() -> None:
    assert (HubError("x").status, HubError("x").field) == (400, "request")
    assert (PlaceError("x").status, PlaceError("x").field) == (422, "body")
    assert QuestionError("x").field == "query"
    assert ContractError("x", field="time").field == "time"
    assert ContractError("x").field == "body"  # a field given to one is not the kind's
    assert str(QuestionError("say how", field="by")) == "say how"


def test_a_cell_not_written_cut_equals_value_names_the_field_cell() -> None:
    with pytest.raises(ReplayError) as refused:
        cell_of("month")
    assert (refused.value.status, refused.value.field) == (422, "cell")
    assert cell_of("month=2025-03,locality=x") == {"month": "2025-03", "locality": "x"}
