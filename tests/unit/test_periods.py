"""The period grid (`projections.periods`): the only periods a commissioner or steward may ask,
each named by a label, every other span refused with its field and how to ask."""

import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

import projections.periods
from projections.asked import QuestionError
from projections.periods import (
    FORMATS,
    KINDS,
    Period,
    asked_period,
    calendar_year,
    financial_year,
    grid_period,
    grid_within,
    month_period,
    quarter_period,
    span_period,
)

EXAMPLES = {
    "2025-03": Period("2025-03", "2025-03", "2025-03"),
    "2025-Q1": Period("2025-Q1", "2025-01", "2025-03"),
    "2024-Q4": Period("2024-Q4", "2024-10", "2024-12"),
    "FY2024-25": Period("FY2024-25", "2024-04", "2025-03"),
    "FY1999-00": Period("FY1999-00", "1999-04", "2000-03"),
    "2025": Period("2025", "2025-01", "2025-12"),
}
MONTHS = st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(1900, 2200), st.integers(1, 12))


def test_the_module_examples_hold() -> None:
    assert doctest.testmod(projections.periods).failed == 0


@pytest.mark.parametrize(("label", "period"), EXAMPLES.items())
def test_each_kind_of_label_names_its_first_and_last_months(label: str, period: Period) -> None:
    assert grid_period(label) == period
    assert span_period(period.start, period.end) == period  # the same period as a span


def test_each_period_knows_its_kind_and_says_it_in_json() -> None:
    kinds = {label: grid_period(label).kind for label in EXAMPLES}
    assert kinds == {
        "2025-03": "month",
        "2025-Q1": "quarter",
        "2024-Q4": "quarter",
        "FY2024-25": "financial_year",
        "FY1999-00": "financial_year",
        "2025": "year",
    }
    assert grid_period("2025-Q1").to_json() == {
        "label": "2025-Q1",
        "kind": "quarter",
        "start": "2025-01",
        "end": "2025-03",
    }
    assert set(FORMATS) == set(KINDS)
    assert all(grid_period(example).kind == kind for kind, (_, example, _) in FORMATS.items())


@pytest.mark.parametrize(
    "label",
    [
        "2025-13",
        "2025-Q5",
        "2025-Q0",
        "FY2024-26",
        "FY2024",
        "25",
        "2025-3",
        "Q1-2025",
        "",
        "FY9999-00",
    ],
)
def test_a_label_not_on_the_grid_is_refused_naming_period_never_echoing_it(label: str) -> None:
    with pytest.raises(QuestionError) as refused:
        grid_period(label)
    assert (refused.value.status, refused.value.field) == (422, "period")
    assert "YYYY-Qn" in str(refused.value)  # it says how to ask
    if label:
        assert label not in str(refused.value)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2024-01", "2024-05"),  # the overlapping spans
        ("2024-02", "2024-04"),  # three months, not a calendar quarter
        ("2024-04", "2024-05"),
        ("2024-02", "2025-01"),  # twelve months, neither a financial nor a calendar year
        ("2024-01", "2025-12"),  # two years
        ("2025-03", "2025-01"),  # backwards
    ],
)
def test_a_span_that_is_not_one_grid_period_is_refused_saying_how_to_ask(
    start: str, end: str
) -> None:
    with pytest.raises(QuestionError) as refused:
        span_period(start, end)
    assert (refused.value.status, refused.value.field) == (422, "from")
    reason = str(refused.value)
    assert "period of the grid" in reason
    assert "YYYY-Qn" in reason
    assert start not in reason
    assert end not in reason


@pytest.mark.parametrize(
    ("start", "end", "field"), [("2024-1", "2024-01", "from"), ("2024-01", "x", "to")]
)
def test_a_span_month_not_written_yyyy_mm_names_its_field(start: str, end: str, field: str) -> None:
    with pytest.raises(QuestionError) as refused:
        span_period(start, end)
    assert refused.value.field == field


def test_a_question_asks_a_label_or_a_span_naming_one_period_or_neither() -> None:
    assert asked_period(None, None, None) is None
    assert asked_period("", "", "") is None
    assert asked_period("FY2024-25", None, None) == financial_year(2024)
    assert asked_period(None, "2025-01", "2025-12") == calendar_year(2025)
    assert asked_period(None, "2025-04", "2025-06") == quarter_period(2025, 2)


@pytest.mark.parametrize(
    ("label", "start", "end", "field"),
    [
        ("2025-Q1", "2025-01", "2025-03", "period"),  # both ways at once, even agreeing
        ("2025-Q1", "2025-01", None, "period"),
        ("2025-Q1", None, "2025-03", "period"),
        (None, "2025-01", None, "to"),
        (None, None, "2025-03", "from"),
        (None, "2025-01", "2025-02", "from"),
        ("2025-Q9", None, None, "period"),
    ],
)
def test_a_question_asked_otherwise_is_refused_naming_the_field(
    label: str | None, start: str | None, end: str | None, field: str
) -> None:
    with pytest.raises(QuestionError) as refused:
        asked_period(label, start, end)
    assert (refused.value.status, refused.value.field) == (422, field)


def test_the_choices_over_two_years_are_months_quarters_financial_then_calendar_years() -> None:
    choices = grid_within("2024-01", "2025-12")
    labels = [p.label for p in choices]
    assert labels[:2] == ["2024-01", "2024-02"]
    assert [p.kind for p in choices] == (
        ["month"] * 24 + ["quarter"] * 8 + ["financial_year"] * 3 + ["year"] * 2
    )
    assert labels[24:] == [
        *(f"{y}-Q{q}" for y in (2024, 2025) for q in (1, 2, 3, 4)),
        "FY2023-24",
        "FY2024-25",
        "FY2025-26",
        "2024",
        "2025",
    ]


@given(MONTHS, MONTHS)
def test_every_choice_overlaps_the_months_and_every_month_is_in_one_of_each_kind(
    first: str, last: str
) -> None:
    first, last = min(first, last), max(first, last)
    choices = grid_within(first, last)
    assert all(p.start <= last and p.end >= first for p in choices)
    assert len({p.label for p in choices}) == len(choices)
    for month in (first, last):
        for kind in KINDS:
            holding = [p for p in choices if p.kind == kind and p.start <= month <= p.end]
            assert len(holding) == 1, (month, kind)


@given(MONTHS, MONTHS)
def test_a_span_is_answered_exactly_when_it_is_one_grid_period(start: str, end: str) -> None:
    grid = {(p.start, p.end): p for p in grid_within(min(start, end), max(start, end))}
    if (start, end) in grid:
        assert span_period(start, end) == grid[(start, end)]
        assert grid_period(grid[(start, end)].label) == grid[(start, end)]
    else:
        with pytest.raises(QuestionError):
            span_period(start, end)


def test_the_building_blocks_agree_with_the_labels() -> None:
    assert month_period("2025-03") == grid_period("2025-03")
    assert quarter_period(2025, 4) == grid_period("2025-Q4")
    assert financial_year(2099) == grid_period("FY2099-00")
    assert calendar_year(2025).months == ("2025-01", "2025-12")
