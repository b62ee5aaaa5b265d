"""Shared fixtures: the small test place, its police mapping, and a place key."""

import os
import subprocess
from collections.abc import Iterator
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


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real broker: KAFKA_BOOTSTRAP_SERVERS where set, else one started by deploy/kafka."""
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
        return
    script = Path(__file__).resolve().parents[1] / "deploy" / "kafka" / "kafka.sh"
    run = tmp_path_factory.mktemp("kafka")
    env = {**os.environ, "HUB_KAFKA_RUN": str(run)}
    started = subprocess.run(
        ["bash", str(script), "start"], env=env, capture_output=True, text=True, timeout=600
    )
    if started.returncode != 0:
        raise RuntimeError(f"the Kafka broker did not start:\n{started.stderr}")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(script), "stop"], env=env, capture_output=True, timeout=120)


@pytest.fixture(autouse=True)
def _kafka_for_contract(request: pytest.FixtureRequest) -> None:
    """Give the Kafka contract class its broker (session-scoped) without touching other tests."""
    if request.cls is not None and request.cls.__name__ == "TestKafkaLogContract":
        request.cls.bootstrap = request.getfixturevalue("kafka_bootstrap")
