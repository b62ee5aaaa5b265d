"""`hub worker` and `hub publish` as commands: publishing leaves the log to the worker; the
worker applies it, and on SIGTERM saves the batch in hand and leaves with exit code 0."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hub.bootstrap import open_hub
from hub.demo.run import quiet, run_demo
from hub.settings import Settings


def _hub(*args: str, data_dir: Path, wait: bool = True) -> subprocess.Popen[str]:
    env = {**os.environ, "HUB_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    for name in ("HUB_KAFKA_BOOTSTRAP", "HUB_STORE"):  # the embedded default
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if wait:
        process.wait(300)
    return process


def test_published_extracts_wait_for_the_worker_which_stops_cleanly_on_sigterm(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "hub-data")
    with open_hub(settings) as hub:
        run = run_demo(
            hub, tmp_path / "demo-agencies", people=300, seed=12, stage=quiet, apply=False
        )
    held = run.held  # the agencies' own folder: the hub's data folder has none of it
    published = _hub(
        "publish",
        str(held.extract("police-north")),
        "--mapping",
        str(held.mapping("police-north")),
        "--place",
        str(settings.folder.place),
        "--key",
        str(held.place_key),
        data_dir=settings.data_dir,
    )
    output = published.stdout.read() if published.stdout else ""
    assert published.returncode in {0, 1}, output
    assert "0 accepted" in output, output  # the demo had sent it already: all duplicates
    with open_hub(settings) as hub:
        waiting = hub.worker.lag()
    assert waiting > 1000

    worker = _hub("worker", data_dir=settings.data_dir, wait=False)
    deadline = time.monotonic() + 120
    while True:
        with open_hub(settings) as hub:
            if hub.worker.lag() == 0:
                break
        assert time.monotonic() < deadline, "the worker did not catch up"
        time.sleep(0.5)
    worker.send_signal(signal.SIGTERM)
    out, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, out
    assert f"worker stopped: applied {waiting:,}, 0 rejected, 0 waiting" in out
