"""What an agency runs, with its own secrets alone: `hub publish` (its extract through its
connector to the hub) and `hub receipts` (the hub's answers). Neither opens the hub: no data
folder, no hub key, no store.

    hub publish police.csv --mapping police.toml --place place.toml --key place-key.toml \\
        --client-config police-north.properties           # as the agency, on the broker
    hub receipts --client-config police-north.properties  # every answer so far
"""

import contextlib
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.markup import escape
from rich.table import Table

from connectors.csv_connector import CsvConnector
from connectors.http_sender import HttpPublisher, publish_over_http
from connectors.mapping import load_mapping
from connectors.pseudonym import load_pseudonymiser
from connectors.publish import AgencyRun
from hub.agency.publish import publish_over_kafka
from hub.cli.common import console, errors, progress_bar
from hub.cli.render import report_run
from hub.log.kafka_client import KafkaConnection
from hub.log.receipts import ReceiptReader
from hub.log.topics import BrokerError, receipts_topic
from schemas.errors import HubError
from schemas.place import load_place

AgencyKafka = Annotated[
    str | None,
    typer.Option(
        "--kafka",
        envvar="HUB_KAFKA_BOOTSTRAP",
        help="The hub's Kafka broker (host:port); without it, the client configuration's "
        "bootstrap.servers.",
    ),
]
AgencyConfig = Annotated[
    Path | None,
    typer.Option(
        "--client-config",
        envvar="HUB_AGENCY_CLIENT_CONFIG",
        help="The agency's own Kafka client configuration (Java properties), as `hub agencies "
        "enrol` writes it (AGENCY.properties, beside its ca.pem): its principal may write "
        "only the agency's inbound topic and read only its receipts. Never the hub's.",
        dir_okay=False,
    ),
]
PlaceKey = Annotated[
    Path,
    typer.Option(help="The place key file: the agencies' shared key for pseudonyms."),
]
DEFAULT_PLACE_KEY = Path("demo-agencies/place-key.toml")
"""Where the demo keeps the agencies' material (their extracts, mappings and place key)."""


@contextlib.contextmanager
def failing_at_the_broker() -> Iterator[None]:
    """What the broker refused or failed (another agency's configuration, a login refused, a
    broker out of reach) is the run failing, exit code 1; a file the command could not use
    stays exit code 2."""
    try:
        yield
    except BrokerError as error:
        errors.print(f"[red]error:[/] {escape(str(error))}", highlight=False)
        raise typer.Exit(1) from None


def agency_connection(kafka: str | None, client_config: Path | None) -> KafkaConnection | None:
    """The agency's connection the options give, or None where they give none."""
    if client_config is not None:
        return KafkaConnection.from_file(client_config, kafka)
    return KafkaConnection(kafka) if kafka else None


def publish(
    extract: Annotated[Path, typer.Argument(help="The agency's CSV extract.", dir_okay=False)],
    mapping: Annotated[Path, typer.Option(help="The agency's mapping file (TOML).")],
    place: Annotated[Path, typer.Option(help="The place file.")] = Path(
        "hub-data/place/place.toml"
    ),
    key: PlaceKey = DEFAULT_PLACE_KEY,
    url: Annotated[
        str | None, typer.Option(envvar="HUB_URL", help="A served hub to send to over HTTP.")
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option("--api-key", envvar="HUB_API_KEY", help="The agency's API key (with --url)."),
    ] = None,
    kafka: AgencyKafka = None,
    client_config: AgencyConfig = None,
    wait: Annotated[
        bool, typer.Option(help="On Kafka, wait for the hub's receipt of every event sent.")
    ] = True,
    timeout: Annotated[
        float, typer.Option(min=0, help="How long to wait for the receipts, in seconds.")
    ] = 120.0,
) -> None:
    """An agency's connector sending one extract, as the agency: to a served hub over HTTP
    (`--url` with the agency's `--api-key`), or to its own inbound topic on the hub's Kafka
    broker (`--client-config`, the agency's own), where `hub gateway` checks each event and
    answers with a receipt. It needs only the agency's material: the extract, its mapping, the
    place file and the place key; never the hub's data folder or keys. Every event is
    accepted, a duplicate, or rejected with its field and reason; sending again after a
    failure duplicates nothing. On Kafka it waits for the receipts (`--no-wait` does not:
    `hub receipts` shows them later). The exit code is 1 if any row was refused, any event
    rejected, the broker refused or failed the sending (another agency's client configuration,
    say), or a receipt did not come in time.

    Example: `hub publish police.csv --mapping police.toml --place place.toml --key
    place-key.toml --client-config enrolled/police-north.properties`

    Example: `hub publish police.csv --mapping police.toml --url http://127.0.0.1:8000
    --api-key hub.1a2b3c4d.SECRET`
    """
    connection = agency_connection(kafka, client_config)
    if url is None and connection is None:
        raise HubError(
            "say where to send the extract: --url (a served hub) or --client-config (the "
            "agency's own Kafka client configuration); `hub ingest` takes an extract into a "
            "hub in this process instead (the embedded default)"
        )
    the_place = load_place(place)
    the_mapping = load_mapping(mapping, the_place)
    connector = CsvConnector(the_mapping, the_place, load_pseudonymiser(key))
    what = f"{extract.name} ({the_mapping.agency})"
    if url is not None:
        if not api_key:
            raise HubError("--url needs the agency's --api-key (from `hub keys create`)")
        with HttpPublisher(url, api_key) as sender:
            run = publish_over_http(sender, connector, extract)
        report_run(run, what, f"sent to {url}")
    elif connection is not None:
        with failing_at_the_broker():
            run, where = _over_kafka(connection, connector, extract, wait, timeout)
        if not wait:
            report_run(run, what, f"{where}; `hub receipts` shows the hub's answers")
            return
        failed = None
        if run.unanswered:
            failed = (
                f"the hub has not answered {run.unanswered:,} of the {run.sent:,} events sent "
                f"within {timeout:g} s: is `hub gateway` running? `hub receipts` shows them "
                "later"
            )
        report_run(run, what, f"{where}, answered on {receipts_topic(the_mapping.agency)}", failed)


def _over_kafka(
    connection: KafkaConnection, connector: CsvConnector, extract: Path, wait: bool, timeout: float
) -> tuple[AgencyRun, str]:
    """The extract to the agency's inbound topic (`hub.agency.publish`), with a progress bar
    of the receipts."""
    if not wait:
        return publish_over_kafka(connection, connector, extract, wait, timeout)
    with progress_bar() as bar:

        def answered(total: int) -> Callable[[], None]:
            task = bar.add_task("receipts", total=total)
            return lambda: bar.advance(task)

        return publish_over_kafka(connection, connector, extract, wait, timeout, answered=answered)


def receipts(
    client_config: AgencyConfig = None,
    kafka: AgencyKafka = None,
    agency: Annotated[
        str | None,
        typer.Option(help="Whose receipts (its slug); by default the configuration's user."),
    ] = None,
    from_offset: Annotated[
        int, typer.Option(min=0, help="Read from this offset of the receipts topic.")
    ] = 0,
    json_: Annotated[bool, typer.Option("--json", help="Every receipt, as JSON.")] = False,
) -> None:
    """The hub's answers to an agency's events so far: every receipt on its receipts topic
    (`hub.receipts.AGENCY.v1`, committed ones only), counted by status, with each rejected
    event's id, field and reason. Read as the agency, with its own client configuration; the
    exit code is 1 if the broker refuses (another agency's receipts) or fails the reading.

    Example: `hub receipts --client-config enrolled/police-north.properties --from-offset 1200`
    """
    connection = agency_connection(kafka, client_config)
    if connection is None:
        raise HubError(
            "--client-config: name the agency's own Kafka client configuration "
            "(`hub agencies enrol` writes it)"
        )
    whose = agency or connection.username
    if not whose:
        raise HubError("--agency: the client configuration names no user; say whose receipts")
    with failing_at_the_broker(), ReceiptReader(connection, whose) as reader:
        found = list(reader.read(from_offset))
        position, unreadable = reader.position, reader.unreadable
    counts: Counter[str] = Counter(receipt.status for receipt in found)
    statuses = ("accepted", "duplicate", "rejected")
    if json_:
        document = {
            "agency": whose,
            "topic": reader.topic,
            "from_offset": from_offset,
            "next_offset": position,
            "counts": {status: counts[status] for status in statuses},
            "receipts": [receipt.model_dump(mode="json", exclude_none=True) for receipt in found],
            "unreadable_offsets": unreadable,
        }
        sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    counted = ", ".join(f"{counts[status]:,} {status}" for status in statuses)
    console.print(
        escape(
            f"{reader.topic} from offset {from_offset:,}: {len(found):,} receipts, {counted}; "
            f"read to offset {position:,} (`--from-offset {position}` shows only newer ones)"
        ),
        highlight=False,
    )
    rejected = [receipt for receipt in found if receipt.status == "rejected"]
    if rejected:
        table = Table(title=f"Rejected events: {len(rejected):,}", title_justify="left")
        for name in ("id", "field", "reason"):
            table.add_column(name)
        for one in rejected:
            shown = one.id or f"(none: message {one.partition}:{one.offset})"
            table.add_row(*(escape(cell) for cell in (shown, one.field or "", one.reason or "")))
        console.print(table)
    if unreadable:
        offsets = ", ".join(str(offset) for offset in unreadable[:20])
        more = f" and {len(unreadable) - 20:,} more" if len(unreadable) > 20 else ""
        errors.print(
            escape(f"not a receipt: the records of {reader.topic} at offsets {offsets}{more}"),
            highlight=False,
        )
