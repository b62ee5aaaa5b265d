"""The headers every answer carries: `Cache-Control: no-store` (an answer may hold figures or
a key's view: no cache keeps it; only a route that sets its own, such as the dashboard's
versioned, immutable plotly.js, keeps that), no framing (`X-Frame-Options: DENY`), no content
sniffing, no referrer; and a Content-Security-Policy: on the docs pages one admitting only the
hub's own assets (`fastapi-offline` serves them under /static-offline-docs) and the page's own
inline script, by its hash; on every answer that is not a page (JSON, CSV, scripts)
`default-src 'none'; frame-ancestors 'none'`. The dashboard's pages keep their own policy.

    headers.install(app)  # after the other middleware: it wraps every answer, errors too
"""

import base64
import hashlib
import re

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCS = {"/docs", "/redoc", "/docs/oauth2-redirect"}
ALWAYS = {
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
NOT_A_PAGE = "default-src 'none'; frame-ancestors 'none'"
INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def docs_policy(page: bytes) -> str:
    """The docs page's policy: its own assets, and the inline scripts of `page` by hash."""
    scripts = " ".join(
        ["'self'"]
        + [
            f"'sha256-{base64.b64encode(hashlib.sha256(s).digest()).decode()}'"
            for s in INLINE_SCRIPT.findall(page)
        ]
    )
    return (
        "default-src 'none'; "
        f"script-src {scripts}; "
        "style-src 'self' 'unsafe-inline'; "  # Swagger UI and ReDoc style their elements
        "img-src 'self' data:; "
        "font-src 'self'; "
        "connect-src 'self'; "  # the page fetches /openapi.json
        "worker-src 'self' blob:; "  # ReDoc's search runs in a worker
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


class SecureHeaders:
    """An ASGI middleware setting the headers of the module docstring on every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in DOCS:
            await self._docs(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers.setdefault(name, value)
                if not headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("content-security-policy", NOT_A_PAGE)
            await send(message)

        await self.app(scope, receive, sending)

    async def _docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A docs page, held until its body is whole (a few kB) to hash its inline script."""
        start: Message | None = None
        body: list[bytes] = []

        async def holding(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            assert start is not None
            page = b"".join(body)
            headers = MutableHeaders(scope=start)
            for name, value in ALWAYS.items():
                headers[name] = value
            headers["content-security-policy"] = docs_policy(page)
            headers["content-length"] = str(len(page))
            await send(start)
            await send({"type": "http.response.body", "body": page})

        await self.app(scope, receive, holding)


def install(app: FastAPI) -> None:
    """Wrap every answer of `app` (register it last: the outermost of the app's middleware)."""
    app.add_middleware(SecureHeaders)
