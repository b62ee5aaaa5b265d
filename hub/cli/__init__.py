"""The `hub` command: one subcommand per job, each a thin layer over the Python API, grouped
by what it works on (`place`, `records`, `agency`, `answers`, `disclosure`, `keys`, `audit`;
`render` prints).

Exit codes: 0 ok, 1 the checked thing failed (rows refused), 2 bad usage or unreadable input.
"""

import sys

import typer
from rich.markup import escape

from hub.cli import agency, answers, disclosure, place, records
from hub.cli.audit import audit_app
from hub.cli.common import errors
from hub.cli.gateway import gateway
from hub.cli.kafka import agencies_app, kafka_app
from hub.cli.keys import keys_app
from hub.settings import private_files
from schemas.errors import HubError

app = typer.Typer(
    name="hub",
    help="The Shared Outcomes Hub: agencies' records in, shared answers out, nobody named.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)
commands = (place.synth, place.connect, place.demo, records.ingest, answers.query)
for command in (*commands, disclosure.disclosure):
    app.command()(command)
app.command()(agency.publish)
app.command()(agency.receipts)
app.command()(answers.serve)
app.add_typer(keys_app, name="keys")
app.command()(records.worker)
app.command()(gateway)
app.add_typer(records.rejected_app, name="rejected")
app.command()(records.erase)
app.add_typer(audit_app, name="audit")
app.add_typer(kafka_app, name="kafka")
app.add_typer(agencies_app, name="agencies")


def main() -> None:
    """Entry point: run the app, turning the hub's errors into a sentence and exit code 2.
    Every file and folder a command makes is its owner's alone (`private_files`)."""
    try:
        with private_files():
            app()
    except HubError as exc:
        errors.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(2)
