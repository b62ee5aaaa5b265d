"""`hub worker` as a command: what waits in the log (a demo run without applying it) is
applied by the worker, which on SIGTERM saves the batch in hand and leaves with exit code 0.
(`hub publish` is the agency's, never the hub's: `test_agency_publish`.)"""

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


def test_the_worker_applies_what_waits_in_the_log_and_stops_cleanly_on_sigterm(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "hub-data")
    with open_hub(settings) as hub:
        run_demo(hub, tmp_path / "demo-agencies", people=300, seed=12, stage=quiet, apply=False)
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
