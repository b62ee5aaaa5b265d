"""A place and its agencies' extracts: `hub synth`, `connect` and `demo`."""

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from connectors.pseudonym import load_pseudonymiser
from connectors.run import connect_extract
from connectors.synth import synthesise
from hub.bootstrap import open_hub, open_projections
from hub.cli.common import ClientConfig, DataDir, Kafka, Store, console, progress_bar, settings_of
from hub.cli.render import print_answer, print_reports, rules_note
from hub.demo.agencies import DEMO_AGENCIES
from hub.demo.run import run_demo
from hub.projection.answers import DEMO_VIEWS, period_of
from schemas.place import load_place


def synth(
    out: Annotated[Path, typer.Option(help="Folder to write the place into.")] = Path("place"),
    people: Annotated[int, typer.Option(min=1, help="How many people live in the place.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same place.")] = 1,
    months: Annotated[int, typer.Option(min=1, max=120, help="How many months of records.")] = 24,
    start: Annotated[str, typer.Option(help="First month, YYYY-MM.")] = "2024-01",
) -> None:
    """Synthesise a place: its place file, each agency's extract and mapping, and the truth.

    Example: `hub synth --out place --people 20000 --seed 1`
    """
    with progress_bar() as progress:
        task = progress.add_task("synthesising people", total=people)
        summary = synthesise(
            out,
            people=people,
            seed=seed,
            months=months,
            start=start,
            progress=lambda n: progress.advance(task, n),
        )
    console.print(
        f"[bold]{summary.people:,}[/] people, [bold]{summary.total_rows:,}[/] extract rows "
        f"across {len(summary.rows)} agencies written to [cyan]{escape(str(out))}[/]"
    )


def connect(
    extract: Annotated[Path, typer.Argument(help="The agency's CSV extract.", dir_okay=False)],
    mapping: Annotated[Path, typer.Option(help="The agency's mapping file (TOML).")],
    place: Annotated[Path, typer.Option(help="The place file.")] = Path("place/place.toml"),
    key: Annotated[Path, typer.Option(help="The place key file.")] = Path("place-key.toml"),
    out: Annotated[
        Path | None, typer.Option(help="Where to write the events (JSON lines).")
    ] = None,
) -> None:
    """Run one extract through the agency's connector: pseudonymise, map, validate.

    Refused rows are listed with file, line, column and reason; the exit code is 1 if any was.

    Example:
    `hub connect place/extracts/police-north.csv --mapping place/mappings/police-north.toml`
    """
    the_place = load_place(place)
    target = out or extract.with_suffix(".events.jsonl")
    report = connect_extract(extract, mapping, the_place, load_pseudonymiser(key), target)
    print_reports([report], show=50)
    console.print(f"events written to [cyan]{escape(str(target))}[/]")
    if report.rejections:
        raise typer.Exit(1)


def demo(
    data_dir: DataDir = Path("hub-data"),
    agencies_dir: Annotated[
        Path,
        typer.Option(
            "--agencies-dir",
            envvar="HUB_DEMO_AGENCIES",
            help="Folder for the synthetic agencies' own material (their extracts, mappings, "
            "place key and the ground truth), apart from the hub's data folder: the hub never "
            "holds it.",
            file_okay=False,
        ),
    ] = DEMO_AGENCIES,
    people: Annotated[int, typer.Option(min=1, help="How many people live in the place.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic place.")] = 1,
    kafka: Kafka = None,
    client_config: ClientConfig = None,
    store: Store = "sqlite",
) -> None:
    """Run the whole hub: a synthetic place's agencies' records in, through connectors,
    ingest, the log and the worker into the event store, then the commissioners' answers.

    The agencies' extracts, mappings, place key and the ground truth are written to
    `--agencies-dir` (./demo-agencies), never to the hub's data folder, which gets a copy of
    the place file alone: with the place key beside the hub's own key anyone could
    re-identify everyone. Run again, the same seed gives the same place and the place key
    there is kept.

    On the embedded default with no options; on the real parts with `--client-config` (the
    secured broker's hub.properties) and `--store postgres` (start them with
    deploy/kafka/kafka.sh and deploy/postgres/postgres.sh). On Kafka the demo goes as
    production does: it makes the place's topics and ACLs, enrols every agency (its client
    configuration into `--agencies-dir`/kafka), publishes each extract as the agency itself to
    its inbound topic, and runs a gateway that checks every event into the log and answers
    each with a receipt.

    Example: `hub demo --data-dir hub-data --agencies-dir demo-agencies --people 20000`

    Example: `hub demo --client-config /tmp/hub-kafka/hub.properties --store postgres`
    """
    settings = settings_of(data_dir, kafka, store, client_config)
    with progress_bar() as progress, open_hub(settings) as hub:

        def stage(description: str, total: int) -> Callable[[int], None]:
            task = progress.add_task(description, total=total)
            return lambda n: progress.advance(task, n)

        on_kafka = settings.kafka is not None  # the agencies publish as themselves there
        run = run_demo(hub, agencies_dir, people, seed, stage, through_gateway=on_kafka)
        with open_projections(hub, run.place) as projections:
            projections.catch_up(stage("projections: store to DuckDB", projections.projector.lag()))
            span = projections.months()
            answers = []
            for slug, by, kind in DEMO_VIEWS:
                period = None if span is None else period_of(kind, span[1])
                answers.append((slug, by, period, projections.answer(slug, by, period)))
    table = Table(title=f"{run.place.name}: what each agency sent, and what the hub accepted")
    columns = ("agency", "sector", "rows", "refused at agency", "accepted", "duplicate", "rejected")
    for name in columns:
        table.add_column(name, justify="left" if name in {"agency", "sector"} else "right")
    for a in run.agencies:
        numbers = (a.rows, a.refused, a.accepted, a.duplicate, a.rejected)
        table.add_row(escape(a.agency), escape(a.sector), *(f"{n:,}" for n in numbers))
    console.print(table)
    reasons = [reason for a in run.agencies for reason in a.reasons]
    for reason in reasons[:3]:
        console.print(f"  refused: {escape(reason)}", highlight=False)
    if len(reasons) > 3:
        console.print(f"  ... and {len(reasons) - 3:,} more; `hub connect` lists them all")
    for slug, by, period, answer_table in answers:
        print_answer(slug, by, period, answer_table, limit=12)
    console.print(rules_note(run.place.disclosure))
    console.print(
        f"{run.synth.people:,} people, {len(run.place.agencies)} agencies, "
        f"{len(run.place.localities)} localities; the worker applied {run.applied:,} events.\n"
        f"Data folder: [cyan]{escape(str(data_dir))}[/]; {escape(settings.where())}. The "
        "agencies' extracts (as they hold them), mappings, place key and truth, which the hub "
        f"never holds: [cyan]{escape(str(agencies_dir))}[/]. "
        "Ask more with `hub query SLUG --by CUT --period LABEL` (a month 2025-03, a quarter "
        "2025-Q1, a financial year FY2024-25 or a year 2025); `hub disclosure` publishes the "
        "rules, the error bound and the periods the record covers."
    )
    folder = "" if data_dir == Path("hub-data") else escape(f" --data-dir {data_dir}")
    console.print(
        "\n[bold]See it on the dashboard[/]: make a key, serve the hub, open the page and sign "
        "in with the key:\n"
        f"  hub keys create --role commissioner{folder}   (or steward, auditor)\n"
        f"  hub serve{folder}\n"
        "  then open [cyan]http://127.0.0.1:8000/dashboard[/] in a browser.\n"
        "The ledger is signed and verifiable: `hub audit verify` (see the README's Auditing).",
        highlight=False,
    )
