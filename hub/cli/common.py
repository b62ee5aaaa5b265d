"""What every `hub` command shares: the data-folder, log and store options, the settings made
from them, the consoles and the progress bar."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hub.settings import Settings
from schemas.errors import HubError

console = Console()
errors = Console(stderr=True)

DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar="HUB_DATA_DIR",
        help="Folder for everything the hub writes on the embedded default.",
        file_okay=False,
    ),
]

Kafka = Annotated[
    str | None,
    typer.Option(
        "--kafka",
        envvar="HUB_KAFKA_BOOTSTRAP",
        help="Kafka bootstrap servers (host:port): the log is the topic hub.events.v1 there. "
        "Without it, the embedded log in the data folder.",
    ),
]
ClientConfig = Annotated[
    Path | None,
    typer.Option(
        "--client-config",
        envvar="HUB_KAFKA_CLIENT_CONFIG",
        help="The hub's Kafka client configuration (Java properties: security.protocol, "
        "sasl.mechanism, sasl.jaas.config, ssl.truststore.*), e.g. the hub.properties "
        "`deploy/kafka/kafka.sh start` writes: TLS and SCRAM. Its bootstrap.servers is used "
        "where --kafka is not given.",
        dir_okay=False,
    ),
]
Store = Annotated[
    str,
    typer.Option(
        "--store",
        envvar="HUB_STORE",
        help="The event store: sqlite (in the data folder) or postgres (eventsourcing's "
        "POSTGRES_* settings from the environment).",
    ),
]


def settings_of(
    data_dir: Path, kafka: str | None, store: str, client_config: Path | None = None
) -> Settings:
    """The settings the common options give (the rest from the environment)."""
    if store not in {"sqlite", "postgres"}:
        raise HubError(f"--store {store!r}: choose sqlite or postgres")
    return Settings(
        data_dir=data_dir,
        kafka_bootstrap=kafka or None,
        kafka_client_config=client_config,
        store=store,
    )


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
