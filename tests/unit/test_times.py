"""Times in the contract are strictly RFC 3339: seconds and an offset, nothing else."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.base import Contract, Rfc3339Time, format_rfc3339


class _Stamped(Contract):
    time: Rfc3339Time


@pytest.mark.parametrize(
    "value",
    [
        "2024-03-05T14:30Z",  # no seconds
        "2024-03-05T14:30:00",  # naive
        "2024-03-05 14:30:00Z",  # space, not T
        "2024-03-05",  # a date
        "2024-02-30T10:00:00Z",  # no such day
        "2024-03-05T24:00:00Z",
        "2024-03-05T10:00:00+24:00",
        1709649000,  # epoch seconds
        1709649000.5,
        datetime(2024, 3, 5, 14, 30),  # naive datetime
    ],
)
def test_a_time_without_seconds_or_offset_or_given_as_a_number_is_refused(value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        _Stamped.model_validate({"time": value})
    assert caught.value.errors()[0]["loc"] == ("time",)


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2024-03-05T14:30:00Z", datetime(2024, 3, 5, 14, 30, tzinfo=UTC)),
        ("2024-07-05T15:30:00+01:00", datetime(2024, 7, 5, 14, 30, tzinfo=UTC)),
        ("2024-03-05t14:30:00.123456789z", datetime(2024, 3, 5, 14, 30, 0, 123456, tzinfo=UTC)),
    ],
)
def test_a_strict_time_is_read_with_its_offset(text: str, utc: datetime) -> None:
    assert _Stamped.model_validate_json(f'{{"time": "{text}"}}').time == utc


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=1)), timezone(-timedelta(hours=5))]
        ),
    )
)
def test_formatting_then_parsing_gives_the_same_moment(moment: datetime) -> None:
    assert _Stamped.model_validate_json(f'{{"time": "{format_rfc3339(moment)}"}}').time == moment


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-05T14:30Z",
        "2024-03-05T14:30:00",
        "2024-03-05 14:30:00Z",
        "2024-02-30T10:00:00Z",
        "2024-03-05T10:00:00+24:00",
        "2024-03-05T10:00:00+05",
        "lunchtime",
    ],
)
def test_a_json_time_is_refused_without_repeating_it(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _Stamped.model_validate_json(f'{{"time": "{text}"}}')
    assert caught.value.errors()[0]["loc"] == ("time",)
    assert text not in str(caught.value)
