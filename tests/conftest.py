"""Shared fixtures: the small test place, its police mapping, and a place key."""

import os
from pathlib import Path

import pytest

from connectors.mapping import Mapping, load_mapping
from connectors.pseudonym import Pseudonymiser
from schemas.place import Place, load_place

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(os.environ.get("HUB_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared"))


@pytest.fixture(scope="session")
def place() -> Place:
    return load_place(FIXTURES / "place.toml")


@pytest.fixture(scope="session")
def police_mapping(place: Place) -> Mapping:
    return load_mapping(FIXTURES / "police-north.toml", place)


@pytest.fixture
def pseudonymiser() -> Pseudonymiser:
    return Pseudonymiser(bytes(range(32)), version=1)
