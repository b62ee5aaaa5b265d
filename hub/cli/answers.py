"""Commissioners' answers and the served hub: `hub query` and `hub serve`."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.markup import escape

from hub.bootstrap import open_hub, open_projections
from hub.cli.common import ClientConfig, DataDir, Kafka, Store, console, settings_of
from hub.cli.render import print_answer, rules_note
from hub.projection.answers import Projections
from hub.settings import Settings
from projections.asked import parse_cuts
from projections.periods import asked_period
from projections.questions import QUESTIONS
from schemas.errors import HubError
from schemas.place import Place, load_place

PeriodOption = Annotated[
    str | None,
    typer.Option(
        "--period",
        help="One period of the grid: 2025-03 (a month), 2025-Q1 (a quarter), FY2024-25 "
        "(April to March) or 2025 (a calendar year); none, the whole record.",
    ),
]
From = Annotated[
    str | None,
    typer.Option("--from", help="First month, YYYY-MM: with --to, only as one grid period."),
]
To = Annotated[str | None, typer.Option(help="Last month, YYYY-MM (see --from).")]
PlaceFile = Annotated[
    Path | None, typer.Option(help="The place file (default: the data folder's).")
]


@contextmanager
def caught_up(settings: Settings, place: Place) -> Iterator[Projections]:
    """The data folder's projections with everything the log and the store hold loaded."""
    with open_hub(settings) as hub:
        hub.worker.run_until_caught_up()
        with open_projections(hub, place) as projections:
            projections.catch_up()
            yield projections


def query(
    slug: Annotated[str, typer.Argument(help=f"The question: {', '.join(QUESTIONS)}.")],
    by: Annotated[
        str, typer.Option(help="Cuts, comma-separated (each question allows its own).")
    ] = "",
    period: PeriodOption = None,
    from_: From = None,
    to: To = None,
    format_: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    place: PlaceFile = None,
    data_dir: DataDir = Path("hub-data"),
    kafka: Kafka = None,
    client_config: ClientConfig = None,
    store: Store = "sqlite",
) -> None:
    """Answer one commissioner question, always under disclosure control, for one period of
    the fixed grid or the whole record (`hub disclosure` lists the periods and the rules).

    Example: `hub query demand --by locality,need --period 2025-Q1 --format csv`

    Example: `hub query waits --by agency --period FY2024-25`

    `--from 2025-01 --to 2025-03` is taken as 2025-Q1; a span that is not one month,
    quarter, financial or calendar year is refused (exit code 2).
    """
    if format_ not in {"table", "csv", "json"}:
        raise HubError(f"--format {format_!r}: choose table, csv or json")
    cuts = parse_cuts(by)
    grid = asked_period(period, from_, to)
    settings = settings_of(data_dir, kafka, store, client_config)
    the_place = load_place(place or settings.folder.place)
    with caught_up(settings, the_place) as projections:
        table = projections.answer(slug, cuts, grid)
        position = projections.projector.position
    if format_ == "json":
        shown = grid.to_json() if grid else None
        document = {"question": slug, "by": cuts, "period": shown, "position": position}
        sys.stdout.write(
            orjson.dumps(document | table.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n"
        )
    elif format_ == "csv":
        sys.stdout.write(table.to_csv())
    else:
        print_answer(slug, cuts, grid, table, limit=None)
        console.print(rules_note(the_place.disclosure) + f" Store position {position:,}.")


def serve(
    data_dir: DataDir = Path("hub-data"),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    kafka: Kafka = None,
    client_config: ClientConfig = None,
    store: Store = "sqlite",
    worker: Annotated[
        bool, typer.Option(help="Apply the log in the server too (off when `hub worker`s run).")
    ] = True,
) -> None:
    """Serve the hub's HTTP API: agencies publish, commissioners ask, stewards agree, auditors
    read. Keys come from `hub keys create`; the API's own page is at /docs.

    Example: `hub serve --data-dir hub-data --port 8000`
    """
    import uvicorn

    from hub.api.app import create_app

    settings = settings_of(data_dir, kafka, store, client_config)
    console.print(escape(f"serving {settings.where()} at http://{host}:{port} (docs at /docs)"))
    uvicorn.run(create_app(settings, worker=worker), host=host, port=port, log_level="warning")
