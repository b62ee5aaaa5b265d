"""Commissioners' answers and the served hub: `hub query` and `hub serve`."""

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.markup import escape

from hub.bootstrap import open_hub, open_projections
from hub.cli.common import DataDir, Kafka, Store, console, settings_of
from hub.cli.render import SUPPRESSED_NOTE, print_answer
from projections.asked import parse_cuts, parse_period
from projections.questions import QUESTIONS
from schemas.errors import HubError
from schemas.place import load_place


def query(
    slug: Annotated[str, typer.Argument(help=f"The question: {', '.join(QUESTIONS)}.")],
    by: Annotated[
        str, typer.Option(help="Cuts, comma-separated (each question allows its own).")
    ] = "",
    from_: Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM.")] = None,
    to: Annotated[str | None, typer.Option(help="Last month, YYYY-MM.")] = None,
    format_: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    place: Annotated[
        Path | None, typer.Option(help="The place file (default: the data folder's).")
    ] = None,
    data_dir: DataDir = Path("hub-data"),
    kafka: Kafka = None,
    store: Store = "sqlite",
) -> None:
    """Answer one commissioner question, always under disclosure control.

    Example: `hub query demand --by locality,need --from 2025-01 --to 2025-03 --format csv`
    """
    if format_ not in {"table", "csv", "json"}:
        raise HubError(f"--format {format_!r}: choose table, csv or json")
    cuts = parse_cuts(by)
    period = parse_period(from_, to)
    settings = settings_of(data_dir, kafka, store)
    the_place = load_place(place or settings.folder.place)
    with open_hub(settings) as hub:
        hub.worker.run_until_caught_up()
        with open_projections(hub, the_place) as projections:
            projections.catch_up()
            table = projections.answer(slug, cuts, period)
            position = projections.projector.position
    if format_ == "json":
        document = {"question": slug, "by": cuts, "period": period, "position": position}
        sys.stdout.write(
            orjson.dumps(document | table.to_json(), option=orjson.OPT_INDENT_2).decode() + "\n"
        )
    elif format_ == "csv":
        sys.stdout.write(table.to_csv())
    else:
        print_answer(slug, cuts, period, table, limit=None)
        console.print(SUPPRESSED_NOTE + f" Store position {position:,}.")


def serve(
    data_dir: DataDir = Path("hub-data"),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    kafka: Kafka = None,
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

    settings = settings_of(data_dir, kafka, store)
    console.print(escape(f"serving {settings.where()} at http://{host}:{port} (docs at /docs)"))
    uvicorn.run(create_app(settings, worker=worker), host=host, port=port, log_level="warning")
