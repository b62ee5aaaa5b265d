"""The hub's own keys, each a file in the data folder: made on first use, readable by the
hub's user alone, never shown (`hub.settings.DataFolder` names them)."""

import secrets
import tomllib
from pathlib import Path

from hub.settings import private_files
from projections.unit_keys import UnitKeys
from schemas.errors import HubError


def own_key(path: Path, what: str) -> bytes:
    """A 32-byte key from its file (`key = "<hex>"`), made there on first use."""
    if not path.exists():
        with private_files():
            path.write_text(f'key = "{secrets.token_hex(32)}"\n', encoding="utf-8")
    try:
        return bytes.fromhex(tomllib.loads(path.read_text(encoding="utf-8"))["key"])
    except (tomllib.TOMLDecodeError, KeyError, ValueError) as exc:
        raise HubError(
            f"{path}: not a {what} file ({exc}); move it away to make a new one"
        ) from None


def unit_keys_in(path: Path) -> UnitKeys:
    """The cell key method's unit keys under the disclosure key in this file."""
    return UnitKeys(own_key(path, "disclosure key"))
