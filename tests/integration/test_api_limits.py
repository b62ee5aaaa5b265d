"""A 200 MB body sent to a served hub (a `hub serve` subprocess) is refused before it is read:
401 without a key, 413 with one, and the server's memory barely moves (issue 14)."""

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest

from hub.access.keys import KeyStore
from tests.integration.served import free_port

MB = 1024 * 1024
SIZE = 200 * MB
CHUNK = b" " * MB  # one megabyte, sent 200 times: the test never holds the body


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, psutil.Process, str]]:
    folder = tmp_path_factory.mktemp("limits")
    keys = KeyStore(folder / "access.sqlite")
    steward = keys.create("steward").token
    keys.close()
    port = free_port()
    command = [str(Path(sys.executable).parent / "hub"), "serve", "--data-dir", str(folder)]
    log = (folder / "serve.log").open("wb")
    server = subprocess.Popen([*command, "--port", str(port)], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/health").status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert server.poll() is None, "the hub exited: see serve.log"
        assert time.monotonic() < deadline, "the hub did not start"
        time.sleep(0.1)
    try:
        yield url, psutil.Process(server.pid), steward
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@contextmanager
def watched(process: psutil.Process) -> Iterator[list[int]]:
    """The process' RSS sampled every 5 ms while the block runs: [before, peak]."""
    figures = [process.memory_info().rss] * 2
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.005):
            figures[1] = max(figures[1], process.memory_info().rss)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield figures
    finally:
        done.set()
        watcher.join()
        figures[1] = max(figures[1], process.memory_info().rss)


def _body() -> Iterator[bytes]:
    for _ in range(SIZE // len(CHUNK)):
        yield CHUNK


def _post(url: str, headers: dict[str, str]) -> httpx.Response:
    """POST 200 MB of JSON (chunked, or with its length declared) to a steward route."""
    headers = {"Content-Type": "application/json"} | headers
    return httpx.post(url + "/v1/partnerships", content=_body(), headers=headers, timeout=120)


@pytest.mark.parametrize(
    ("who", "length", "status"),
    [
        ("none", False, 401),
        ("none", True, 401),
        ("steward", False, 413),
        ("steward", True, 413),
    ],
)
def test_a_200_mb_body_is_refused_before_it_is_read(
    hub: tuple[str, psutil.Process, str], who: str, length: bool, status: int
) -> None:
    url, server, steward = hub
    headers = {"Authorization": f"Bearer {steward}"} if who == "steward" else {}
    if length:
        headers["Content-Length"] = str(SIZE)
    with watched(server) as rss:
        response = _post(url, headers)
    before, peak = rss
    print(
        f"{who}, {'declared' if length else 'chunked'}: RSS {before / MB:.0f}, peak {peak / MB:.0f} MB"
    )
    assert response.status_code == status, response.text
    assert set(response.json()) == {"field", "reason"}
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert peak - before < 100 * MB, f"the server grew by {(peak - before) / MB:.0f} MB"
    assert httpx.get(url + "/health").status_code == 200
