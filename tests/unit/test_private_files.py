"""`private_files`: while open, what the process makes is its owner's alone; nested and
threaded uses share it, and the umask before comes back when the last one closes."""

import os
import stat
from pathlib import Path

from hub.settings import private_files


def test_files_and_folders_made_inside_are_private_and_the_umask_comes_back(
    tmp_path: Path,
) -> None:
    before = os.umask(0o022)
    try:
        with private_files():
            with private_files():
                (tmp_path / "inner").write_text("x")
            (tmp_path / "folder").mkdir()
            (tmp_path / "outer").write_text("x")
        (tmp_path / "after").write_text("x")
        assert os.umask(0o022) == 0o022
    finally:
        os.umask(before)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert modes == {"inner": 0o600, "folder": 0o700, "outer": 0o600, "after": 0o644}


def test_a_stricter_umask_stays_stricter(tmp_path: Path) -> None:
    before = os.umask(0o277)
    try:
        with private_files():
            (tmp_path / "file").write_text("x")
    finally:
        os.umask(before)
    assert stat.S_IMODE((tmp_path / "file").stat().st_mode) == 0o400
