"""The one place where the hub is wired: settings in, application, log, ingest and worker out.

    with open_hub(Settings(data_dir=Path("hub-data"))) as hub:
        hub.ingest.submit("police-north", events)
        hub.worker.run_until_caught_up()

On the embedded default everything lives in the data folder: `hub.db` (the event store,
eventsourcing's SQLite recorder), `log.sqlite` (the event log), `seen.sqlite` (accepted ids)
and `hub-key.toml` (the hub's own pseudonym key, made on first use, readable by its owner only).
"""

import secrets
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.application import Hub
from hub.ingest import Ingest, SqliteSeen
from hub.log import DEFAULT_PARTITIONS, EmbeddedLog
from hub.worker import Worker
from schemas.errors import HubError


class Settings(BaseSettings):
    """Every choice the hub makes, from the environment (`HUB_*`) or arguments."""

    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore")

    data_dir: Path = Path("hub-data")
    partitions: int = DEFAULT_PARTITIONS
    worker_batch: int = 1000

    @property
    def store_env(self) -> dict[str, str]:
        """eventsourcing's own settings for the embedded store."""
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(self.data_dir / "hub.db"),
        }


@dataclass
class Runtime:
    """The wired hub: its application, log, ingest and worker."""

    settings: Settings
    app: Hub
    log: EmbeddedLog
    seen: SqliteSeen
    ingest: Ingest
    worker: Worker

    def close(self) -> None:
        self.seen.close()
        self.log.close()
        self.app.close()


def hub_key(data_dir: Path) -> bytes:
    """The hub's own pseudonym key: read from the data folder, made there on first use."""
    path = data_dir / "hub-key.toml"
    if not path.exists():
        path.write_text(f'key = "{secrets.token_hex(32)}"\n', encoding="utf-8")
        path.chmod(0o600)
    try:
        return bytes.fromhex(tomllib.loads(path.read_text(encoding="utf-8"))["key"])
    except (tomllib.TOMLDecodeError, KeyError, ValueError) as exc:
        raise HubError(
            f"{path}: not a hub key file ({exc}); move it away to make a new one"
        ) from None


@contextmanager
def open_hub(settings: Settings) -> Iterator[Runtime]:
    """Open (creating where absent) the embedded hub in the settings' data folder."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = Hub(env=settings.store_env)
    log = EmbeddedLog(settings.data_dir / "log.sqlite", partitions=settings.partitions)
    seen = SqliteSeen(settings.data_dir / "seen.sqlite")
    runtime = Runtime(
        settings,
        app,
        log,
        seen,
        Ingest(log, seen, hub_key(settings.data_dir)),
        Worker(app, log, batch_size=settings.worker_batch),
    )
    try:
        yield runtime
    finally:
        runtime.close()
