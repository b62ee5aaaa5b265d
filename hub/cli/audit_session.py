"""What every `hub audit ...` command shares: the opened store's audit, and JSON printing."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.markup import escape

from hub.audit.auditor import Audit
from hub.bootstrap import open_audit
from hub.cli.common import console, errors, settings_of
from hub.settings import Settings
from schemas.errors import HubError

Json = Annotated[bool, typer.Option("--json", help="Print JSON (for tools) instead of text.")]


@contextmanager
def opened_audit(data_dir: Path, store: str) -> Iterator[tuple[Settings, Audit]]:
    """The opened store's audit; a HubError inside is a sentence and exit code 2."""
    try:
        settings = settings_of(data_dir, None, store)
        if settings.store == "sqlite" and not settings.folder.store.exists():
            raise HubError(f"{data_dir}: no hub store here (run `hub demo` or give --data-dir)")
        with open_audit(settings) as audit:
            yield settings, audit
    except HubError as exc:
        errors.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(2) from None


def print_json(document: Any) -> None:
    console.print_json(orjson.dumps(document).decode())
