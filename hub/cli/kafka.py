"""`hub kafka setup` and `hub agencies enrol|revoke|list`: the secured broker's topics, ACLs
and agency principals, from the place file, as the hub principal."""

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hub.cli.common import ClientConfig, DataDir, Kafka, console, settings_of
from hub.enrolment.broker import Broker
from hub.enrolment.grants import grants
from schemas.place import Place, load_place

PlaceFile = Annotated[
    Path | None,
    typer.Option(
        "--place",
        help="The place file whose agencies to set up (default: the data folder's place).",
        dir_okay=False,
    ),
]

kafka_app = typer.Typer(
    no_args_is_help=True,
    help="The secured Kafka broker: the place's topics and ACLs.\n\n"
    "Example: `hub kafka setup --client-config /tmp/hub-kafka/hub.properties`",
)
agencies_app = typer.Typer(
    no_args_is_help=True,
    help="Agencies as principals of the secured broker: enrol, revoke, list.\n\n"
    "Example: `hub agencies enrol police-north --out enrolled "
    "--client-config /tmp/hub-kafka/hub.properties`",
)


def _place(data_dir: Path, place: Path | None) -> Place:
    return load_place(place or data_dir / "place" / "place.toml")


def _broker(data_dir: Path, kafka: str | None, client_config: Path | None) -> Broker:
    return Broker(settings_of(data_dir, kafka, "sqlite", client_config).kafka)


@kafka_app.command(name="setup")
def setup(
    place: PlaceFile = None,
    data_dir: DataDir = Path("hub-data"),
    kafka: Kafka = None,
    client_config: ClientConfig = None,
) -> None:
    """Make the place's topics and ACLs where missing (run it again any time: it changes
    nothing that is there). Per agency `hub.inbound.<agency>.v1`, which only that agency may
    write, and `hub.receipts.<agency>.v1`, which only it may read (consumer groups
    `<agency>` or `<agency>.*`); and the hub's `hub.events.v1` and `hub.events.rejected.v1`,
    which only the hub may touch.

    Example: `hub kafka setup --client-config /tmp/hub-kafka/hub.properties`
    """
    settings = settings_of(data_dir, kafka, "sqlite", client_config)
    the_place = _place(data_dir, place)
    with Broker(settings.kafka) as broker:
        done = broker.setup(the_place, settings)
    for topic in done.made:
        console.print(f"made topic [cyan]{escape(topic)}[/]")
    console.print(
        f"{len(done.made)} topics made, {len(done.existing)} there already; "
        f"{done.acls} ACLs of {len(the_place.agencies)} agencies in place"
    )


@agencies_app.command(name="enrol")
def enrol(
    agency: Annotated[str, typer.Argument(help="The agency's slug in the place file.")],
    out: Annotated[
        Path, typer.Option(help="Folder for the agency's two client files.", file_okay=False)
    ],
    place: PlaceFile = None,
    data_dir: DataDir = Path("hub-data"),
    kafka: Kafka = None,
    client_config: ClientConfig = None,
) -> None:
    """Make the agency's SCRAM credential and ACLs, and write once, readable by their owner
    alone, its client configurations: `OUT/<agency>.properties` (Java clients, Kafka's
    console tools) and `OUT/<agency>.librdkafka.properties`, with the CA beside them. The
    password is in those files only: hand them to the agency.

    Example: `hub agencies enrol police-north --out enrolled --client-config
    /tmp/hub-kafka/hub.properties`
    """
    the_place = _place(data_dir, place)
    with _broker(data_dir, kafka, client_config) as broker:
        java, rdkafka = broker.enrol(the_place, agency, out)
    console.print(
        f"enrolled [bold]{escape(agency)}[/]: it may write hub.inbound.{escape(agency)}.v1 "
        f"and read hub.receipts.{escape(agency)}.v1"
    )
    console.print(f"  Java clients:      [cyan]{escape(str(java))}[/]")
    console.print(f"  librdkafka clients: [cyan]{escape(str(rdkafka))}[/]")


@agencies_app.command(name="revoke")
def revoke(
    agency: Annotated[str, typer.Argument(help="The agency's slug.")],
    data_dir: DataDir = Path("hub-data"),
    kafka: Kafka = None,
    client_config: ClientConfig = None,
) -> None:
    """Delete the agency's credential and every ACL of its principal: new connections are
    refused at once, and open ones end within the broker's `connections.max.reauth.ms`.

    Example: `hub agencies revoke police-north --client-config /tmp/hub-kafka/hub.properties`
    """
    with _broker(data_dir, kafka, client_config) as broker:
        had, deleted = broker.revoke(agency)
    what = "its credential deleted" if had else "it had no credential"
    console.print(f"revoked [bold]{escape(agency)}[/]: {what}, {deleted} ACLs deleted")


@agencies_app.command(name="list")
def agencies_list(
    place: PlaceFile = None,
    data_dir: DataDir = Path("hub-data"),
    kafka: Kafka = None,
    client_config: ClientConfig = None,
    verbose: Annotated[bool, typer.Option("--acls", help="List each ACL too.")] = False,
) -> None:
    """Every agency of the place (and any other user with a credential): enrolled or not,
    how many of its ACLs and topics are there (`--acls` lists each ACL).

    Example: `hub agencies list --client-config /tmp/hub-kafka/hub.properties`
    """
    the_place = _place(data_dir, place)
    with _broker(data_dir, kafka, client_config) as broker:
        rows = broker.agencies(the_place)
    table = Table(title=f"{len(rows)} agencies on the broker", title_justify="left")
    for name in ("agency", "enrolled", "ACLs", "topics"):
        table.add_column(name)
    for row in rows:
        table.add_row(
            escape(row.agency),
            "yes" if row.enrolled else "no",
            f"{len(row.acls)} of {len(grants(row.agency))}",
            f"{len(row.topics)} of 2",
        )
    console.print(table)
    if verbose:
        for row in rows:
            for acl in row.acls:
                console.print(f"{escape(row.agency)}: {escape(acl)}", highlight=False)
