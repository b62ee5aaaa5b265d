"""The dashboard's files as the hub serves them: plotly.js byte for byte from the installed
`plotly` wheel, pages that name nothing outside the hub, a strict Content-Security-Policy."""

import asyncio
import hashlib
import importlib.metadata
import re
from importlib.resources import files
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from hub.api import dashboard
from hub.api.app import create_app
from hub.settings import Settings

STATIC = Path(dashboard.__file__).parent / "static"
PAGES = ["/dashboard", "/dashboard/demand", "/dashboard/accountability", "/dashboard/audit"]
ADDRESS = re.compile(rb"https?://", re.IGNORECASE)


class Client:
    """Requests straight to the app (no lifespan: the pages and their files need no hub)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def get(self, path: str) -> httpx.Response:
        async def get() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as c:
                return await c.get(path)

        return asyncio.run(get())


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Client:
    return Client(create_app(Settings(data_dir=tmp_path_factory.mktemp("unused"))))


def test_the_served_chart_library_is_the_packaged_plotly_min_js(client: Client) -> None:
    packaged = (files("plotly") / "package_data" / "plotly.min.js").read_bytes()
    banner = re.search(rb"plotly\.js v(\d+\.\d+\.\d+)", packaged[:500])
    assert banner is not None
    version = banner.group(1).decode()
    page = client.get("/dashboard/demand").text
    assert f'src="/dashboard/vendor/plotly-{version}.min.js"' in page
    served = client.get(f"/dashboard/vendor/plotly-{version}.min.js")
    assert served.status_code == 200
    assert hashlib.sha256(served.content).hexdigest() == hashlib.sha256(packaged).hexdigest()
    assert served.content == packaged
    assert served.headers["X-Plotly-Version"] == version
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert served.headers["Content-Type"].startswith("text/javascript")
    print(
        f"plotly.js {version} from the plotly {importlib.metadata.version('plotly')} wheel, "
        f"sha256 {hashlib.sha256(packaged).hexdigest()}"
    )
    assert client.get("/dashboard/vendor/plotly-0.0.1.min.js").status_code == 404


def test_plotlys_own_style_rules_are_served_as_a_style_sheet(client: Client) -> None:
    shipped = dashboard.plotly()
    css = client.get(shipped.css_url)
    assert css.status_code == 200
    assert css.headers["Content-Type"].startswith("text/css")
    assert ".js-plotly-plot .plotly .modebar {" in css.text
    assert ".plotly-notifier {" in css.text
    assert css.text.count("{") == css.text.count("}") > 50
    page = client.get("/dashboard/demand").text
    assert '<meta id="plotly.js-style-global" class="no-inline-styles">' in page


def test_no_page_names_an_address_outside_the_hub(client: Client) -> None:
    for path in sorted(STATIC.iterdir()):
        assert not ADDRESS.search(path.read_bytes()), f"{path.name} names an http(s) address"
    found, _ = dashboard.assets()
    assert set(found) == {p.name for p in STATIC.iterdir() if p.suffix in {".js", ".css"}}
    for route in PAGES:
        page = client.get(route)
        assert page.status_code == 200
        assert not ADDRESS.search(page.content), f"{route} names an http(s) address"
        for link in re.findall(r'(?:src|href)="([^"#][^"]*)"', page.text):
            if link != "data:,":  # the empty icon
                assert link.startswith("/dashboard/"), f"{route} links to {link}"
                assert client.get(link).status_code == 200, link
    assert not ADDRESS.search(dashboard.plotly().css.encode())


def test_every_page_has_a_strict_policy_and_no_inline_script_or_figure(client: Client) -> None:
    for route in PAGES:
        page = client.get(route)
        policy = page.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "connect-src 'self'" in policy
        assert "default-src 'none'" in policy
        assert "unsafe" not in policy
        assert page.headers["Cache-Control"] == "no-store"
        html = page.text
        assert re.search(r"<html lang=\"en-GB\">", html)
        # Every script is a file of the hub's; no inline script, handler or style attribute.
        assert all(re.search(r"\bsrc=", tag) for tag in re.findall(r"<script[^>]*>", html))
        assert not re.search(r"<script[^>]*>(?!</script>)", html)
        assert not re.search(r"\son[a-z]+=", html)
        assert not re.search(r"\sstyle=", html)
        # No figure: the pages fetch the controlled answers with the key.
        assert 'suppressed": ' not in html
        assert not re.search(r">\s*\d[\d,]*\s*<", html)


def test_the_pages_own_files_carry_one_version_in_every_url(client: Client) -> None:
    _, version = dashboard.assets()
    page = client.get("/dashboard/demand").text
    assert f"/dashboard/static/demand.js?v={version}" in page
    script = client.get(f"/dashboard/static/demand.js?v={version}")
    assert script.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert f'from "./common.js?v={version}"' in script.text
    assert client.get("/dashboard/static/demand.js").headers["Cache-Control"] == "no-cache"
    assert client.get("/dashboard/static/nothing.js").status_code == 404
    assert client.get("/dashboard/static/index.html").status_code == 404
    assert client.get("/dashboard/elsewhere").status_code == 404
