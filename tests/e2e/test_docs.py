"""The docs page renders under its Content-Security-Policy: its script (the hub's own, from
fastapi-offline) runs, nothing is blocked, nothing loads from outside."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.settings import Settings
from tests.e2e.conftest import Browser
from tests.integration.served import serving


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder: Path = tmp_path_factory.mktemp("docs")
    with serving(Settings(data_dir=folder)) as url:
        yield url


def test_the_docs_page_renders_its_operations_under_its_policy(
    browser: Browser, base_url: str
) -> None:
    page = browser.context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    response = page.goto(f"{base_url}/docs")
    assert response is not None
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.wait_for_selector(".opblock", timeout=30_000)  # Swagger UI ran and read /openapi.json
    assert "Shared Outcomes Hub" in page.inner_text(".info")
    assert [m for m in console if "Content Security Policy" in m] == []
    assert browser.outside == []
    page.close()
