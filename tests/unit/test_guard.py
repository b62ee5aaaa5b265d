"""The raw-identifier guard catches identifiers in coded and free text, and nothing else."""

from pathlib import Path

import pytest

from connectors.synth import synthesise
from hub.ingest.guard import identifier_kind
from schemas.place import load_place


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("943 476 5919", "NHS number"),
        ("nhs-9434765919", "NHS number"),
        ("jo.bloggs@example.org", "email"),
        ("07700 900123", "phone"),
        ("+44 7700 900123", "phone"),
        ("dob-1980-01-02", "date"),
        ("02/01/1980", "date"),
        ("2 January 1980", "date"),
    ],
)
def test_a_raw_identifier_is_named_by_its_kind(text: str, kind: str) -> None:
    found = identifier_kind(text)
    assert found is not None
    assert kind in found


@pytest.mark.parametrize(
    "text", ["943 476 5918", "ward-12", "2024", "12-2024", "tenancy-support", "outcome-star-10"]
)
def test_ordinary_codes_and_invalid_numbers_raise_no_alarm(text: str) -> None:
    assert identifier_kind(text) is None


def test_no_code_of_the_synthetic_place_raises_an_alarm(tmp_path: Path) -> None:
    synthesise(tmp_path, people=10)
    place = load_place(tmp_path / "place.toml")
    codes = [a.slug for a in place.agencies] + [s.code for s in place.services]
    for group in (place.localities, place.needs, place.purposes, place.instruments):
        codes += [item.code for item in group]
    codes += [o.code for o in place.outcomes] + [d.code for d in place.assessment_domains]
    assert [c for c in codes if identifier_kind(c) is not None] == []
