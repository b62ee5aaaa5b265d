"""The sign-in form (issue 14): submitted before its script loads, it sends no key anywhere (no
`GET /dashboard?key=...` with the key in the URL and the access log)."""

import asyncio
import re
from pathlib import Path

import httpx

from hub.api import dashboard
from hub.api.app import create_app
from hub.settings import Settings

KEY = "hub.1a2b3c4d.not-a-real-secret"


def _request(method: str, path: str, **kw: object) -> httpx.Response:
    app = create_app(Settings(data_dir=Path("unused")))  # the pages need no hub

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as c:
            return await c.request(method, path, **kw)  # type: ignore[arg-type]

    return asyncio.run(go())


def test_the_sign_in_form_posts_and_submits_nothing_natively() -> None:
    page = _request("GET", "/dashboard").text
    form = re.search(r"<form[^>]*id=\"signin\"[^>]*>(.*?)</form>", page, re.S)
    assert form is not None
    assert re.search(r'method="post"', form.group(0), re.I)
    assert not re.search(r"<(input|select|textarea)[^>]*\sname=", form.group(1), re.I)
    posted = _request("POST", "/dashboard", data={"key": KEY})
    assert posted.status_code == 405
    assert KEY not in posted.text
    static = (Path(dashboard.__file__).parent / "static" / "index.html").read_text()
    assert 'method="post"' in static
