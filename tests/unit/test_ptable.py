"""The cell key method's ptable: small counts never show, noise is bounded, unbiased and varies
with the cell key, and the checked-in table is exactly what the generator writes."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from projections.ptable import (
    PTABLE_DIR,
    Ptable,
    PtableError,
    drifted,
    generate,
    main,
    ptable_for,
)
from projections.ptable_rows import KEYS, outputs, probabilities
from schemas.place import Disclosure

DEFAULT = Disclosure()
# Rows whose outputs run without a gap (value > max_noise: they cannot reach 0) round to 256
# keys within this of their distribution's variance; rows that can jump to 0 move a whole key
# across the gap, so their variance is only near (up to about value²/256).
CONTIGUOUS_VARIANCE_TOLERANCE = 0.01


def _stats(table: Ptable, value: int) -> tuple[float, float]:
    counts = table.counts(value)
    mean = sum(n * c for n, c in counts.items()) / KEYS
    return mean, sum(n * n * c for n, c in counts.items()) / KEYS - mean * mean


def _exact_variance(value: int, table: Ptable) -> float:
    v = [j - value for j in outputs(value, table.threshold, table.max_noise)]
    p = probabilities(value, table.threshold, table.max_noise, table.variance)
    return sum(q * x * x for q, x in zip(p, v, strict=True))


def check_the_rules_hold(table: Ptable) -> None:
    js, d, v = table.threshold, table.max_noise, table.variance
    assert table.top == js + d + 1
    assert {table.noise(0, key) for key in range(KEYS)} == {0}
    for value in range(1, table.top + 1):
        noises = [table.noise(value, key) for key in range(KEYS)]
        shown = {value + n for n in noises}
        assert len(shown) >= 2, f"row {value} does not vary with the key"
        assert not shown & set(range(1, js + 1)), f"row {value} shows a small count"
        assert min(shown) >= 0
        assert max(abs(n) for n in noises) <= d
        assert noises == sorted(noises), f"row {value} is not monotone in the key"
        mean, variance = _stats(table, value)
        assert abs(mean) <= 0.05, f"row {value} is biased"
        exact = _exact_variance(value, table)
        least = value * (js + 1 - value) if value <= js else 0  # from 0 and js + 1 alone
        assert exact <= max(v, least) + 1e-9
        if least >= v:
            assert exact == pytest.approx(least), "an infeasible row takes its least variance"
        if value > d:
            assert abs(variance - exact) <= CONTIGUOUS_VARIANCE_TOLERANCE
    assert _exact_variance(table.top, table) == pytest.approx(min(v, d * (d + 1) / 3))
    assert 0 < table.max_abs_noise <= d
    for key in (0, 97, 255):
        assert table.noise(table.top + 1, key) == table.noise(10**6, key)
        assert table.noise(10**6, key) == table.noise(table.top, key)


def test_the_checked_in_table_is_exactly_what_the_generator_writes() -> None:
    text = (PTABLE_DIR / "default.csv").read_text(encoding="utf-8")
    generated = generate(DEFAULT.threshold, DEFAULT.max_noise, DEFAULT.noise_variance)
    assert generated.to_csv() == text
    assert drifted() == []
    assert main(["--check"]) == 0


def test_the_default_place_gets_the_checked_in_table() -> None:
    table = ptable_for(DEFAULT)
    text = (PTABLE_DIR / "default.csv").read_text(encoding="utf-8")
    assert table.to_csv() == text
    assert (table.threshold, table.max_noise, table.variance) == (7, 8, 9.0)
    assert ptable_for(Disclosure()) is table


def test_other_rules_get_a_generated_table_once() -> None:
    rules = Disclosure(threshold=3, max_noise=5, noise_variance=4.0)
    table = ptable_for(rules)
    assert table == generate(3, 5, 4.0)
    assert ptable_for(rules) is table


def test_the_default_table_keeps_the_rules() -> None:
    check_the_rules_hold(ptable_for(DEFAULT))


def test_a_count_from_two_to_six_shows_as_zero_or_eight_unbiased() -> None:
    table = ptable_for(DEFAULT)
    for value in range(2, 7):
        assert table.counts(value) == {-value: 32 * (8 - value), 8 - value: 32 * value}


@pytest.mark.parametrize(
    ("threshold", "max_noise", "variance"),
    [(1, 2, 1.0), (3, 4, 2.0), (5, 10, 16.0), (7, 9, 0.01), (2, 3, 500.0), (10, 12, 25.0)],
)
def test_other_parameters_keep_the_rules(threshold: int, max_noise: int, variance: float) -> None:
    check_the_rules_hold(generate(threshold, max_noise, variance))


@settings(max_examples=20, deadline=None)
@given(
    threshold=st.integers(1, 8),
    extra=st.integers(1, 5),
    variance=st.floats(0.05, 40.0, allow_nan=False),
)
def test_any_small_parameters_keep_the_rules(threshold: int, extra: int, variance: float) -> None:
    check_the_rules_hold(generate(threshold, threshold + extra, variance))


@settings(max_examples=30, deadline=None)
@given(
    threshold=st.integers(1, 8),
    extra=st.integers(1, 5),
    variance=st.floats(0.05, 40.0, allow_nan=False),
    value=st.integers(1, 20),
)
def test_each_distribution_is_unbiased_bounded_and_rises_towards_the_truth_from_the_left(
    threshold: int, extra: int, variance: float, value: int
) -> None:
    max_noise = threshold + extra
    shown = outputs(value, threshold, max_noise)
    p = probabilities(value, threshold, max_noise, variance)
    assert sum(p) == pytest.approx(1.0, abs=1e-12)
    assert sum(q * (j - value) for q, j in zip(p, shown, strict=True)) == pytest.approx(
        0.0, abs=1e-9
    )
    left = [q for q, j in zip(p, shown, strict=True) if j <= value]
    if value in shown:
        assert all(a <= b * (1 + 1e-9) + 1e-15 for a, b in itertools.pairwise(left))


def test_a_table_survives_its_csv() -> None:
    table = generate(2, 4, 3.0)
    again = Ptable.from_csv(table.to_csv(), threshold=2, max_noise=4, variance=3.0)
    assert again == table


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("value,key,noise\n0,0,0\n", "header"),
        ("value,cell_key,noise\n0,0,zero\n", "line 2"),
        ("value,cell_key,noise\n0,0,0\n", r"rows for values 0\.\.threshold"),
    ],
)
def test_a_damaged_csv_is_refused_saying_where(text: str, message: str) -> None:
    with pytest.raises(PtableError, match=message):
        Ptable.from_csv(text, threshold=7, max_noise=8, variance=9.0)


def test_a_lookup_outside_the_keys_is_refused() -> None:
    table = ptable_for(DEFAULT)
    for value, key in [(-1, 0), (3, 256), (3, -1)]:
        with pytest.raises(PtableError, match=r"cell key 0\.\.255"):
            table.noise(value, key)


@pytest.mark.parametrize(("threshold", "max_noise"), [(8, 7), (8, 8)])
def test_rules_whose_noise_cannot_reach_zero_are_refused_naming_max_noise(
    threshold: int, max_noise: int
) -> None:
    with pytest.raises(ValidationError, match="max_noise: must be greater than threshold"):
        Disclosure(threshold=threshold, max_noise=max_noise)
    with pytest.raises(PtableError, match="max_noise") as caught:
        generate(threshold, max_noise, 9.0)
    assert caught.value.field == "disclosure.max_noise"


def test_the_command_prints_a_table_or_its_rows_and_refuses_bad_parameters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--threshold", "2", "--max-noise", "3", "--variance", "1"]) == 0
    assert capsys.readouterr().out == generate(2, 3, 1.0).to_csv()
    assert main(["--summary"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("value  mean_noise")
    assert main(["--threshold", "8", "--max-noise", "8"]) == 2
    assert "max_noise" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["--write", "--threshold", "3"])
    assert usage.value.code == 2


def test_the_command_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "python -m projections.ptable --write" in capsys.readouterr().out
