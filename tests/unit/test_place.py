"""The place file loads when it is consistent, and says exactly what is wrong when not."""

from pathlib import Path

import pytest

from schemas.errors import PlaceError
from schemas.place import Place, load_place
from tests.conftest import FIXTURES


def test_the_test_place_loads_with_default_disclosure_settings(place: Place) -> None:
    assert place.disclosure.threshold == 7
    assert place.disclosure.rounding_base == 5
    assert {a.sector for a in place.agencies} == {"police", "housing", "informal"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('timezone = "Europe/London"', 'timezone = "Europe/Narnia"'), "timezone"),
        (('agency = "homes-trust"', 'agency = "no-such-agency"'), "services[0].agency"),
        (('sector = "police"', 'sector = "army"'), "agencies.0.sector"),
        (('needs = ["housing"] }', 'needs = ["flying"] }'), "outcomes[0].cohort.needs"),
        (
            ('partner = "homes-trust"', 'partner = "peer-group"'),
            "partnership.commitments[0].partner",
        ),
        (('code = "brookside"', 'code = "ashfield"'), "localities: 'ashfield' is listed 2 times"),
        (('name = "Testbridge"', 'name = "Testbridge'), "not valid TOML"),
    ],
)
def test_a_broken_place_file_is_refused_naming_where_and_why(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    text = (FIXTURES / "place.toml").read_text()
    assert change[0] in text
    broken = tmp_path / "place.toml"
    broken.write_text(text.replace(change[0], change[1], 1))
    with pytest.raises(PlaceError) as caught:
        load_place(broken)
    assert message in str(caught.value)
    assert str(broken) in str(caught.value)


def test_a_missing_place_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PlaceError, match="cannot read the place file"):
        load_place(tmp_path / "nowhere.toml")


def test_an_unknown_agency_is_named_with_the_known_ones(place: Place) -> None:
    with pytest.raises(PlaceError, match="known: homes-trust, peer-group, police-north"):
        place.agency("fire-service")


@pytest.mark.parametrize("disclosure", ["threshold = 9", "threshold = 8", "max_noise = 5"])
def test_disclosure_rules_whose_noise_cannot_reach_zero_are_refused_naming_max_noise(
    tmp_path: Path, disclosure: str
) -> None:
    broken = tmp_path / "place.toml"
    broken.write_text((FIXTURES / "place.toml").read_text() + f"\n[disclosure]\n{disclosure}\n")
    with pytest.raises(PlaceError) as caught:
        load_place(broken)
    assert "disclosure: max_noise: must be greater than threshold" in str(caught.value)
