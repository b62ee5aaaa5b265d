"""The production path's parts for each test: a fresh topic and consumer group on the session's
broker, a fresh PostgreSQL schema on the session's server; and what every path is compared by."""

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from hub.bootstrap import record_keys_of
from hub.keys.port import RecordKeys
from hub.projection.updater import Projector
from hub.settings import Settings
from hub.store.application import Hub
from projections.answering import prepare
from projections.questions import QUESTIONS, raw_answer
from schemas.place import Place
from tests.integration.kafka_principals import enrolled  # noqa: F401  (a fixture)
from tests.unit_keys import TEST_UNIT_KEYS

HERE = Path(__file__).parent
MakeSettings = Callable[..., Settings]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is slow (a broker, a server or a whole synthetic place), and
    so is each one added later: `pytest -m "not slow"` leaves them out."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def settings_for(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str, str], Settings]:
    """Settings for a path: `settings_for("kafka" | "embedded", "postgres" | "sqlite")`, each call
    with its own data folder, and on Kafka its own topic, rejected topic and consumer group, on
    PostgreSQL its own schema (the broker and server are started once per session); all with
    the test's one hub key and disclosure key, as one place would have."""

    def make(log: str, store: str, name: str = "") -> Settings:
        tag = uuid.uuid4().hex[:10]
        fields: dict[str, Any] = {"data_dir": tmp_path / f"{log}-{store}{name}"}
        if log == "kafka":
            kafka = request.getfixturevalue("kafka")
            fields |= {
                "kafka_bootstrap": kafka.bootstrap,
                "kafka_client_config": kafka.client_config,
                "topic": f"hub.events.v1.{tag}",
                "rejected_topic": f"hub.events.rejected.v1.{tag}",
                "worker_group": f"hub-worker-{tag}",
                "gateway_group": f"hub-gateway-{tag}",
            }
        if store == "postgres":
            env = request.getfixturevalue("postgres_env")
            fields |= {"store": "postgres", "postgres": env | {"POSTGRES_SCHEMA": f"t_{tag}"}}
        # One place, one set of its own keys: every path of a test shows the same figures.
        return Settings(**fields, keys_dir=tmp_path / "place-keys")

    return make


@pytest.fixture
def agencies(tmp_path: Path) -> Path:
    """The demo's agencies' own folder (extracts, mappings, place key, truth), apart from every
    data folder and one for the whole test: one place, one place key, on every path."""
    return tmp_path / "demo-agencies"


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a `hub` subprocess these settings."""
    env = {
        "HUB_DATA_DIR": str(settings.data_dir),
        "HUB_TOPIC": settings.topic,
        "HUB_REJECTED_TOPIC": settings.rejected_topic,
        "HUB_WORKER_GROUP": settings.worker_group,
        "HUB_GATEWAY_GROUP": settings.gateway_group,
        "HUB_STORE": settings.store,
    }
    if settings.keys_dir is not None:
        env["HUB_KEYS_DIR"] = str(settings.keys_dir)
    if settings.kafka_bootstrap:
        env["HUB_KAFKA_BOOTSTRAP"] = settings.kafka_bootstrap
    if settings.kafka_client_config is not None:
        env["HUB_KAFKA_CLIENT_CONFIG"] = str(settings.kafka_client_config)
    if settings.store == "postgres":
        env |= settings.store_env
    return env


def stored(app: Hub) -> list[tuple[Any, ...]]:
    """Every stored event (originator, version, topic, state bytes), in a stable order."""
    rows = []
    start = 1
    while True:
        batch = app.recorder.select_notifications(start=start, limit=10_000)
        if not batch:
            return sorted(rows)
        rows += [(n.originator_id, n.originator_version, n.topic, n.state) for n in batch]
        start = batch[-1].id + 1


def journeys(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The worker's part of a store (a demo also forms the partnership)."""
    return [row for row in rows if row[2].startswith("hub.domain.journey:")]


def answers(app: Hub, place: Place, keys: RecordKeys | None = None) -> dict[str, Any]:
    """All seven questions at their finest cuts, unrounded and unsuppressed (the full output);
    payloads opened with `keys` (default: the key store beside the app's store)."""
    con = duckdb.connect()
    try:
        Projector(
            app, con, place, keys=keys or record_keys_of(app), unit_keys=TEST_UNIT_KEYS
        ).catch_up()
        prepare(con, place)
        return {
            slug: raw_answer(con, slug, list(q.cuts), None, place) for slug, q in QUESTIONS.items()
        }
    finally:
        con.close()
