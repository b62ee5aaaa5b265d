"""Pseudonyms at the edge: stable per person and key version, keyed, never the identifier."""

import hmac
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from connectors.pseudonym import (
    IdentifierError,
    KeyFileError,
    Pseudonymiser,
    is_valid_nhs_number,
    keyed_sha256,
    load_pseudonymiser,
    new_key_file,
    nhs_check_digit,
    normalise_nhs_number,
)

keys = st.binary(min_size=32, max_size=64)
nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


@st.composite
def nhs_numbers(draw: st.DrawFn) -> str:
    first = draw(nine_digits)
    check = nhs_check_digit(first)
    assume(check is not None)
    return f"{first}{check}"


def test_a_known_nhs_number_is_normalised_whatever_its_spacing() -> None:
    assert normalise_nhs_number("943 476 5919") == "9434765919"
    assert normalise_nhs_number("943-476-5919") == normalise_nhs_number("9434765919")


@pytest.mark.parametrize(
    "bad", ["943 476 5918", "94347659", "943476591900", "943476591X", "", "  ", "٩٤٣٤٧٦٥٩١٩"]
)
def test_an_nhs_number_failing_its_check_is_refused_without_repeating_it(bad: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        normalise_nhs_number(bad)
    assert not bad.strip() or bad not in str(caught.value)
    assert not is_valid_nhs_number(bad)


@given(keys, nhs_numbers(), st.integers(1, 9))
def test_a_pseudonym_is_stable_for_a_person_and_key_version(
    key: bytes, nhs: str, version: int
) -> None:
    first, second = Pseudonymiser(key, version), Pseudonymiser(key, version)
    spaced = f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"
    assert first.person(normalise_nhs_number(nhs)) == second.person(normalise_nhs_number(spaced))


@given(keys, keys, nhs_numbers())
def test_different_keys_give_different_pseudonyms(key_a: bytes, key_b: bytes, nhs: str) -> None:
    assume(key_a != key_b)
    assert Pseudonymiser(key_a, 1).person(nhs) != Pseudonymiser(key_b, 2).person(nhs)


@given(keys, nhs_numbers(), st.text(min_size=1, max_size=20))
def test_a_pseudonym_never_contains_the_identifier(key: bytes, nhs: str, ref: str) -> None:
    p = Pseudonymiser(key, 1)
    person, record, unit = p.person(nhs), p.record("police-north", ref), p.unit("council", ref)
    assert nhs not in person
    assert nhs not in record
    assert len(person) == len(record) == len(unit) == 64
    assert len({person, record, unit}) == 3


@given(keys, nhs_numbers())
def test_a_record_pseudonym_differs_by_agency(key: bytes, ref: str) -> None:
    p = Pseudonymiser(key, 1)
    assert p.record("police-north", ref) != p.record("homes-trust", ref)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(KeyFileError):
        Pseudonymiser(b"short", 1)


def test_a_key_file_round_trips_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "place-key.toml"
    new_key_file(path, version=3)
    assert path.stat().st_mode & 0o077 == 0
    assert load_pseudonymiser(path).version == 3


@given(st.binary(min_size=1, max_size=200), st.binary(max_size=300))
def test_the_keyed_hash_is_exactly_hmac_sha256(key: bytes, message: bytes) -> None:
    assert keyed_sha256(key)(message) == hmac.digest(key, message, "sha256")
