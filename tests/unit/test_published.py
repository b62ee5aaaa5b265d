"""The published disclosure rules (`projections.published`): the place's parameters and error
bound, the period grid with the record's choices, and each question's shape, as data."""

import json
from pathlib import Path

import pytest

from hub.api.any_role import DisclosureRules
from projections.periods import grid_within
from projections.published import disclosure_document, max_error
from projections.questions import QUESTIONS
from schemas.place import Disclosure, Place, load_place

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="module")
def place() -> Place:
    return load_place(FIXTURES / "place.toml")


def test_the_rules_are_the_places_with_the_error_bound_of_any_shown_count(place: Place) -> None:
    document = disclosure_document(place, ("2024-01", "2025-12"))
    rules = place.disclosure
    assert document["method"] == "cell key perturbation"
    assert document["threshold"] == rules.threshold
    assert document["rounding_base"] == rules.rounding_base
    assert document["max_noise"] == rules.max_noise
    assert document["noise_variance"] == rules.noise_variance
    assert document["max_error"] == rules.max_noise + rules.rounding_base // 2
    assert document["key_range"] == 256
    assert document["min_group_for_percentiles"] == rules.min_group_for_percentiles
    assert f"1 to {rules.threshold}" in document["small_counts"]
    assert "0" in document["small_counts"]


@pytest.mark.parametrize(
    ("noise", "base", "bound"), [(8, 5, 10), (3, 1, 3), (5, 10, 10), (2, 2, 3)]
)
def test_max_error_is_the_noise_plus_half_the_rounding_base(
    noise: int, base: int, bound: int
) -> None:
    rules = Disclosure(threshold=noise - 1, max_noise=noise, rounding_base=base)
    assert max_error(rules) == bound


def test_the_choices_are_the_grid_periods_overlapping_the_record_and_none_before_data(
    place: Place,
) -> None:
    periods = disclosure_document(place, ("2024-03", "2025-02"))["periods"]
    assert [c["label"] for c in periods["choices"]] == [
        p.label for p in grid_within("2024-03", "2025-02")
    ]
    assert {c["kind"] for c in periods["choices"]} == {"month", "quarter", "financial_year", "year"}
    assert [k["kind"] for k in periods["kinds"]] == ["month", "quarter", "financial_year", "year"]
    assert [k["example"] for k in periods["kinds"]] == ["2025-03", "2025-Q1", "FY2024-25", "2025"]
    empty = disclosure_document(place, None)["periods"]
    assert empty["choices"] == []
    assert empty["kinds"] == periods["kinds"]


def test_every_question_is_published_with_its_cuts_and_measures(place: Place) -> None:
    questions = disclosure_document(place, None)["questions"]
    assert list(questions) == list(QUESTIONS)
    for slug, q in QUESTIONS.items():
        published = questions[slug]
        assert published["description"] == q.description
        assert published["cuts"] == list(q.cuts)
        assert published["always"] == list(q.always)
        assert published["counts"] == list(q.counts)
        assert [r["name"] for r in published["rates"]] == [r.name for r in q.rates]
        assert [p["name"] for p in published["percentiles"]] == [p.name for p in q.percentiles]
    assert questions["waits"]["percentiles"][0]["group"] == "count_started"
    assert questions["repeat_demand"]["rates"][0] == {
        "name": "repeat_pct",
        "numerator": "count_repeat",
        "denominator": "count_people",
    }


def test_it_says_what_can_and_cannot_be_inferred_in_the_places_own_numbers(place: Place) -> None:
    document = disclosure_document(place, None)
    inference = document["inference"]
    assert inference["can"]
    assert inference["cannot"]
    assert any(str(document["max_error"]) in sentence for sentence in inference["can"])
    assert any(f"1 to {document['threshold']}" in s for s in inference["cannot"])


def test_the_document_is_plain_json_and_fits_the_apis_response_model(place: Place) -> None:
    document = disclosure_document(place, ("2024-01", "2024-12"))
    assert json.loads(json.dumps(document)) == document
    assert DisclosureRules.model_validate(document).model_dump(mode="json") == document
