"""`hub gateway`: agencies' inbound topics into the log, in Kafka transactions, with receipts."""

import signal
import threading
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from hub.bootstrap import open_gateway
from hub.cli.common import ClientConfig, DataDir, Kafka, Store, console, settings_of


def gateway(
    data_dir: DataDir = Path("hub-data"),
    kafka: Kafka = None,
    client_config: ClientConfig = None,
    store: Store = "sqlite",
    instance: Annotated[
        str,
        typer.Option(
            envvar="HUB_GATEWAY_INSTANCE",
            help="This gateway's name, unique among the running ones: its producer's "
            "transactional id is hub-gateway.INSTANCE. Start it again under the same name "
            "after a crash: that aborts what the dead one left open.",
        ),
    ] = "1",
) -> None:
    """Check every agency's events from its inbound topic (hub.inbound.AGENCY.v1) into the log
    (hub.events.v1), with one receipt per event on hub.receipts.AGENCY.v1, until stopped
    (Ctrl-C or SIGTERM finish the transaction in hand). Each batch is one Kafka transaction:
    the accepted events, the receipts and the consumed offsets together. Run several with
    different --instance names: they form the consumer group hub-gateway. The duplicate set and
    the record keys are beside the store (`--store postgres`: in PostgreSQL, shared by every
    gateway).

    Example: `hub gateway --client-config /tmp/hub-kafka/hub.properties --store postgres`
    """
    settings = settings_of(data_dir, kafka, store, client_config)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    with open_gateway(settings, instance) as the_gateway:
        console.print(
            escape(f"gateway {the_gateway.transactional_id}: {settings.where()}"), highlight=False
        )
        report_at = time.monotonic() + 5

        def advance(_: int) -> None:
            nonlocal report_at
            if time.monotonic() >= report_at:
                report_at = time.monotonic() + 5
                console.print(
                    f"decided {the_gateway.events:,} events ({the_gateway.accepted:,} accepted) "
                    f"in {the_gateway.transactions:,} transactions",
                    highlight=False,
                )

        the_gateway.run(stopping.is_set, advance)
        console.print(
            f"gateway stopped: decided {the_gateway.events:,} events "
            f"({the_gateway.accepted:,} accepted) in {the_gateway.transactions:,} transactions",
            highlight=False,
        )
