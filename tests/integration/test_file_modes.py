"""Everything the hub writes is its owner's alone: every file 0600 and every folder 0700 from its
first write (a umask, not a chmod after), SQLite's -wal/-shm and DuckDB's .wal included, after
`hub demo` and while `hub serve` runs; another local user cannot open the record keys. The demo's
agencies' material (extracts, mappings, place key, truth) is theirs alone too, and never in the
hub's data folder."""

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub.bootstrap import open_access
from hub.settings import Settings
from tests.conftest import FIXTURES
from tests.integration.served import serving
from tests.integration.test_api import STRUCTURED, referral

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ordinary_umask() -> Iterator[None]:
    """The umask most systems give (0022): what the hub must not rely on."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


@pytest.fixture
def open_parent() -> Iterator[Path]:
    """A folder any local user may enter (pytest's own tmp folders are 0700), so only the data
    folder's and its files' own modes keep another user out."""
    parent = Path(tempfile.mkdtemp(prefix="hub-modes-"))
    parent.chmod(0o755)
    try:
        yield parent
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def loose_modes(root: Path) -> list[str]:
    """Every file not 0600 and every folder not 0700 under `root` (and `root` itself)."""
    loose = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        want = 0o700 if path.is_dir() else 0o600
        if mode != want:
            loose.append(f"{path.relative_to(root.parent)} {mode:o}")
    return loose


def run_demo(data_dir: Path) -> None:
    """`hub demo` with the agencies' folder beside the data folder (not in the repository)."""
    folders = [
        "--data-dir",
        str(data_dir),
        "--agencies-dir",
        str(data_dir.parent / "demo-agencies"),
    ]
    done = subprocess.run(
        [sys.executable, "-m", "hub.cli", "demo", "--people", "200", *folders],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=lambda: os.umask(0o022),
    )
    assert done.returncode == 0, done.stderr


def test_every_file_and_folder_of_a_demo_is_private(open_parent: Path) -> None:
    data_dir = open_parent / "hub-data"
    run_demo(data_dir)
    assert (data_dir / "record-keys.sqlite").exists()
    assert (data_dir / "place" / "place.toml").exists()
    assert loose_modes(data_dir) == []


def test_the_data_folder_holds_none_of_the_agencies_material_which_is_theirs_alone(
    open_parent: Path,
) -> None:
    data_dir, agencies = open_parent / "hub-data", open_parent / "demo-agencies"
    run_demo(data_dir)
    key = agencies / "place-key.toml"
    made = key.read_bytes()
    extracts = {p.name: p.read_bytes() for p in (agencies / "extracts").iterdir()}
    run_demo(data_dir)  # again: the same seed gives the same place, and the place key is kept
    assert key.read_bytes() == made
    assert {p.name: p.read_bytes() for p in (agencies / "extracts").iterdir()} == extracts

    theirs = sorted(str(p.relative_to(agencies)) for p in agencies.rglob("*") if p.is_file())
    assert theirs == sorted(
        ["place.toml", "place-key.toml", "truth/people.csv", "truth/events.jsonl"]
        + [f"extracts/{name}" for name in extracts]
        + [f"mappings/{name.removesuffix('.csv')}.toml" for name in extracts]
    )
    assert len(extracts) == 12
    assert loose_modes(agencies) == []

    hubs = [p for p in data_dir.rglob("*") if p.is_file()]
    names = {str(p.relative_to(data_dir)) for p in hubs}
    assert {"hub.db", "hub-key.toml", "place/place.toml"} <= names
    assert [p for p in (data_dir / "place").iterdir()] == [data_dir / "place" / "place.toml"]
    assert [n for n in names if "place-key" in n or n.endswith((".csv", ".jsonl"))] == []
    assert (data_dir / "place" / "place.toml").read_bytes() == (
        agencies / "place.toml"
    ).read_bytes()
    secret = tomllib.loads(made.decode())["key"]
    theirs_bytes = {(agencies / name).read_bytes() for name in theirs if name != "place.toml"}
    for path in hubs:
        content = path.read_bytes()
        assert content not in theirs_bytes, path  # no copy of an extract, mapping, truth or key
        assert secret.encode() not in content, path  # nor the place key, as text
        assert bytes.fromhex(secret) not in content, path  # or as bytes


def test_every_file_and_folder_of_a_served_hub_is_private(
    ordinary_umask: None, open_parent: Path
) -> None:
    settings = Settings(data_dir=open_parent / "hub-data")
    access = open_access(settings)
    try:
        agency = access.create("agency", "police-north").token
        commissioner = access.create("commissioner").token
    finally:
        access.close()
    with serving(settings, FIXTURES / "place.toml") as url:
        posted = httpx.post(
            f"{url}/v1/events",
            content=json.dumps(referral(1)),
            headers=STRUCTURED | {"Authorization": f"Bearer {agency}"},
            timeout=30,
        )
        assert posted.status_code < 300, posted.text
        answered = httpx.get(
            f"{url}/v1/questions/demand",
            headers={"Authorization": f"Bearer {commissioner}"},
            timeout=30,
        )
        assert answered.status_code == 200, answered.text
        side_files = [
            p.name for p in settings.data_dir.iterdir() if p.name.endswith(("wal", "shm"))
        ]
        assert side_files  # the side files exist while the hub runs, and are checked too
        assert loose_modes(settings.data_dir) == []
    assert loose_modes(settings.data_dir) == []


def test_another_user_cannot_read_the_record_keys(open_parent: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("running as another user needs root")
    if shutil.which("setpriv") is None:
        pytest.skip("no setpriv here to run as another user")
    try:
        import pwd

        pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody here")
    data_dir = open_parent / "hub-data"
    run_demo(data_dir)
    keys = data_dir / "record-keys.sqlite"
    assert keys.exists()
    read = subprocess.run(
        [
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            shutil.which("python3", path="/usr/bin:/bin") or sys.executable,
            "-c",
            f"open({str(keys)!r}, 'rb').read(1)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert read.returncode != 0
    assert "PermissionError" in read.stderr
