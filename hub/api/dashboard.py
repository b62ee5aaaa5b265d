"""The dashboard: pages for commissioners, stewards and auditors, served by the hub itself.

    GET /dashboard                  sign in with a key (kept in the tab's sessionStorage only)
    GET /dashboard/demand           questions 1-5 and 7 as charts and tables (commissioner)
    GET /dashboard/accountability   question 6 and the partnership's record (steward)
    GET /dashboard/audit            the latest signed checkpoint, the last verification (auditor)

`GET /v1/whoami` (the caller's role, so a page knows what to offer) and `GET /v1/disclosure` (the
rules the pages explain, and the period grid their pickers offer) are in `hub.api.any_role`.

The pages hold no figures: their scripts fetch the controlled JSON with the key. Charts are
drawn by plotly.js as shipped in the `plotly` wheel (`plotly/package_data/plotly.min.js`),
served from here, so the pages need nothing from the internet. Every page answers with a strict
Content-Security-Policy (scripts, styles and requests from the hub only; no inline script).
"""

import hashlib
import importlib.metadata
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from schemas.errors import HubError

router = APIRouter(include_in_schema=False)

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
FOREVER = "public, max-age=31536000, immutable"
PAGES = {
    "": "index.html",
    "demand": "demand.html",
    "accountability": "accountability.html",
    "audit": "audit.html",
}
ROLE_PAGES = {"commissioner": ["demand"], "steward": ["accountability"], "auditor": ["audit"]}
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
ASSET_NAME = re.compile(r"[a-z-]+\.(?:js|css)")
ASSET = re.compile(r"\{\{ asset:([a-z-]+\.(?:js|css)) \}\}")


def static() -> Traversable:
    """The folder of the pages, their scripts and style (package data of `hub.api`)."""
    return files("hub.api") / "static"


@dataclass(frozen=True)
class Plotly:
    """plotly.js as the installed `plotly` package ships it, and its style rules as a file.

    plotly.js writes its style rules into a `<style>` element it makes, which a strict
    Content-Security-Policy refuses; it skips that when the page holds an element of its id with
    the class `no-inline-styles`, so the hub serves the same rules, read out of the same file,
    as a style sheet instead (`css`). `quiet` are the ids of the pages' placeholder elements.
    """

    package_version: str
    js_version: str
    body: bytes
    sha256: str
    css: str
    quiet: tuple[str, ...]

    @property
    def url(self) -> str:
        return f"/dashboard/vendor/plotly-{self.js_version}.min.js"

    @property
    def css_url(self) -> str:
        return f"/dashboard/vendor/plotly-{self.js_version}.css"


# plotly.js's own base rules: `{"X,X div":'direction:ltr;...',...}`, X and Y standing for its
# plot and notifier classes; and the bundled map library's style element (unused here).
RULES = re.compile(r"\{(\s*\"X,X div\":.*?)\}\s*;\s*for\s*\(", re.DOTALL)
RULE = re.compile(r"""\s*(?:"((?:[^"\\]|\\.)*)"|(\w+))\s*:\s*(["'])((?:(?!\3)[^\\]|\\.)*)\3\s*,?""")
PLOT, NOTIFIER = ".js-plotly-plot .plotly", ".plotly-notifier"
MAP_STYLE = re.compile(
    r'getElementById\("([0-9a-f]{64})"\)\)\{var \w+=document\.createElement\("style"\)'
)


def style_rules(source: str) -> str:
    """plotly.js's base style rules as CSS, exactly as it would insert them."""
    found = RULES.search(source)
    if found is None:
        raise HubError("plotly.min.js: its style rules were not found; pin the plotly version")
    css = []
    body, at = found.group(1), 0
    while at < len(body):
        rule = RULE.match(body, at)
        if rule is None:
            raise HubError(f"plotly.min.js: unreadable style rule at {at}; pin the plotly version")
        key = rule.group(1) if rule.group(1) is not None else rule.group(2)
        selector = re.sub(r"^,", " ,", key).replace("X", PLOT).replace("Y", NOTIFIER)
        css.append(f"{selector} {{ {rule.group(4)} }}")
        at = rule.end()
    return "\n".join(reversed(css)) + "\n"  # plotly inserts each rule first: the last one wins


@cache
def plotly() -> Plotly:
    """The packaged `plotly.min.js`, its hash, its version (from its own banner), its rules."""
    body = (files("plotly") / "package_data" / "plotly.min.js").read_bytes()
    found = re.search(rb"plotly\.js v(\d+\.\d+\.\d+\S*)", body[:500])
    if found is None:
        raise HubError("plotly/package_data/plotly.min.js has no version banner: reinstall plotly")
    source = body.decode("utf-8")
    return Plotly(
        importlib.metadata.version("plotly"),
        found.group(1).decode(),
        body,
        hashlib.sha256(body).hexdigest(),
        style_rules(source),
        ("plotly.js-style-global", *MAP_STYLE.findall(source)),
    )


@cache
def assets() -> tuple[dict[str, bytes], str]:
    """The pages' own scripts and style, and one version for them all (a hash of every file):
    each URL, module imports included, carries it, so a browser may keep them for good."""
    found = {
        item.name: item.read_bytes()
        for item in static().iterdir()
        if item.is_file() and ASSET_NAME.fullmatch(item.name)
    }
    digest = hashlib.sha256()
    for name in sorted(found):
        digest.update(name.encode() + b"\0" + hashlib.sha256(found[name]).digest())
    version = digest.hexdigest()[:16]
    imports = re.compile(rb'(from\s+"\./[a-z-]+\.js)(")')
    for name, body in found.items():
        if name.endswith(".js"):
            found[name] = imports.sub(rb"\1?v=" + version.encode() + rb"\2", body)
    return found, version


def asset_url(name: str) -> str:
    files_, version = assets()
    if name not in files_:
        raise HubError(f"the dashboard has no file {name!r} in hub/api/static")
    return f"/dashboard/static/{name}?v={version}"


def plotly_head() -> str:
    """The head elements a page with charts needs: plotly's rules, its placeholders, itself."""
    shipped = plotly()
    quiet = "".join(f'<meta id="{i}" class="no-inline-styles">' for i in shipped.quiet)
    return (
        f'<link rel="stylesheet" href="{shipped.css_url}">{quiet}'
        f'<script src="{shipped.url}" defer></script>'
    )


@cache
def page(name: str) -> str:
    """A page with its asset links filled in (each URL carries the assets' version)."""
    html = (static() / name).read_text(encoding="utf-8")
    html = html.replace("{{ plotly }}", plotly_head())
    return ASSET.sub(lambda m: asset_url(m.group(1)), html)


def _page_response(slug: str) -> HTMLResponse:
    if slug not in PAGES:
        raise HTTPException(404, detail=f"no dashboard page {slug!r}: try /dashboard")
    return HTMLResponse(page(PAGES[slug]), headers=PAGE_HEADERS)


@router.get("/dashboard")
def index() -> HTMLResponse:
    """Sign in with a key; the page then offers the pages of its role."""
    return _page_response("")


@router.get("/dashboard/")
def index_slash() -> RedirectResponse:
    return RedirectResponse("/dashboard", status_code=308)


@router.get("/dashboard/static/{name}")
def static_file(name: str, v: str = "") -> Response:
    """The pages' own scripts and style (kept for good when asked for at their version)."""
    found, version = assets()
    if name not in found:
        raise HTTPException(404, detail=f"no dashboard file {name!r}")
    cache_control = FOREVER if v == version else "no-cache"
    headers = {**PAGE_HEADERS, "Cache-Control": cache_control, "ETag": f'"{version}"'}
    return Response(found[name], media_type=TYPES[name[name.rfind(".") :]], headers=headers)


@router.get("/dashboard/vendor/plotly-{version}.min.js")
def plotly_js(version: str) -> Response:
    """plotly.js from the installed `plotly` wheel, byte for byte."""
    shipped = _shipped(version)
    return Response(shipped.body, media_type=TYPES[".js"], headers=_vendor_headers(shipped))


@router.get("/dashboard/vendor/plotly-{version}.css")
def plotly_css(version: str) -> Response:
    """plotly.js's own style rules, read out of the same file (see `Plotly`)."""
    shipped = _shipped(version)
    return Response(shipped.css, media_type=TYPES[".css"], headers=_vendor_headers(shipped))


def _shipped(version: str) -> Plotly:
    shipped = plotly()
    if version != shipped.js_version:
        raise HTTPException(404, detail=f"this hub serves plotly.js {shipped.js_version} only")
    return shipped


def _vendor_headers(shipped: Plotly) -> dict[str, str]:
    return {
        **PAGE_HEADERS,
        "Cache-Control": FOREVER,
        "ETag": f'"{shipped.sha256}"',
        "X-Plotly-Version": shipped.js_version,
    }


@router.get("/dashboard/{slug}")
def dashboard_page(slug: str) -> HTMLResponse:
    """A role's page; it asks the hub for its figures with the key the tab holds."""
    return _page_response(slug)
