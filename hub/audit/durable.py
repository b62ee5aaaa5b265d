"""Writes that survive a crash."""

import os
from pathlib import Path


def fsync_folder(folder: Path) -> None:
    """Make a new name in `folder` survive a crash."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
