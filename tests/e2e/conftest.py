"""A real headless Chromium for the end-to-end tests: Debian's `chromium` (deploy/chromium.sh
installs it where absent), driven by the `playwright` package pointed at that binary. No browser
is ever downloaded: `playwright install` is never run."""

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Playwright, Route, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent
CHROMIUM = Path(os.environ.get("HUB_CHROMIUM", "/usr/bin/chromium"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
SCREENSHOTS: list[tuple[Path, str]] = []


def chromium() -> Path:
    """Debian's Chromium, installed by deploy/chromium.sh where it is missing."""
    if not CHROMIUM.exists():
        done = subprocess.run(
            ["bash", str(ROOT / "deploy" / "chromium.sh"), "install"],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode != 0 or not CHROMIUM.exists():
            raise RuntimeError(f"Chromium is not installed and could not be:\n{done.stderr}")
    return CHROMIUM


class Browser:
    """One browser for a module, every request of which is routed: anything not to 127.0.0.1
    is aborted and kept in `outside` (the pages must need nothing from the internet)."""

    def __init__(self, playwright: Playwright, profile: Path) -> None:
        self.outside: list[str] = []
        self.local: list[str] = []
        self.context: BrowserContext = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(chromium()),
            headless=True,
            args=ARGS,
            viewport={"width": 1400, "height": 900},
            accept_downloads=True,
        )
        self.context.route("**/*", self._route)

    def _route(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname == "127.0.0.1":
            self.local.append(url)
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with (
        tempfile.TemporaryDirectory(prefix="hub-chromium-") as profile,
        sync_playwright() as playwright,
    ):
        opened = Browser(playwright, Path(profile))
        try:
            yield opened
        finally:
            opened.context.close()


def screenshot_path(name: str, what: str) -> Path:
    """Where a page's screenshot goes (`test-artifacts/dashboard/`, gitignored); listed at the
    end of the run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    SCREENSHOTS.append((path, what))
    print(f"screenshot: {path} ({what})")
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every browser test here is slow, and so is each one added later: `pytest -m "not slow"`
    leaves them out."""
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SCREENSHOTS:
        terminalreporter.section("dashboard screenshots")
        for path, what in SCREENSHOTS:
            terminalreporter.write_line(f"{path.relative_to(ROOT)}: {what}")
