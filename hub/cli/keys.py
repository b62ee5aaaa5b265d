"""`hub keys`: the API's keys, made, listed and revoked."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hub.access.keys import KeyStore
from hub.bootstrap import open_access
from hub.cli.common import DataDir, console
from hub.settings import Settings

keys_app = typer.Typer(
    no_args_is_help=True,
    help="API keys: make, list and revoke them (only each key's hash is kept).\n\n"
    "Example: `hub keys create --role commissioner`",
)


@keys_app.command(name="create")
def keys_create(
    role: Annotated[str, typer.Option(help="agency, commissioner, steward or auditor.")],
    agency: Annotated[
        str | None, typer.Option(help="The agency's slug (agency keys only).")
    ] = None,
    data_dir: DataDir = Path("hub-data"),
) -> None:
    """Make a key for a role and print it once (only its hash is kept).

    Example: `hub keys create --role agency --agency police-north`
    """
    with _keys(data_dir) as keys:
        made = keys.create(role, agency)
    console.print(escape(f"key {made.principal.key_id} ({role}{f', {agency}' if agency else ''}):"))
    sys.stdout.write(made.token + "\n")
    console.print("[dim]shown once: keep it safe; `hub keys revoke` if it is lost[/]")


@keys_app.command(name="list")
def keys_list(data_dir: DataDir = Path("hub-data")) -> None:
    """List the keys (never the keys themselves): id, role, agency, made, last used, revoked.

    Example: `hub keys list`
    """
    with _keys(data_dir) as keys:
        found = keys.all()
    table = Table(title=f"{len(found)} keys", title_justify="left")
    for name in ("id", "role", "agency", "created", "last used", "revoked"):
        table.add_column(name)
    for k in found:
        cells = (k.key_id, k.role, k.agency or "", k.created, k.last_used or "", k.revoked or "")
        table.add_row(*(escape(cell) for cell in cells))
    console.print(table)


@keys_app.command(name="revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (`hub keys list`).")],
    data_dir: DataDir = Path("hub-data"),
) -> None:
    """Revoke a key: from now on it gets 401.

    Example: `hub keys revoke 3fa2c1d0`
    """
    with _keys(data_dir) as keys:
        keys.revoke(key_id)
    console.print(escape(f"key {key_id} revoked"))


@contextmanager
def _keys(data_dir: Path) -> Iterator[KeyStore]:
    keys = open_access(Settings(data_dir=data_dir))
    try:
        yield keys
    finally:
        keys.close()
