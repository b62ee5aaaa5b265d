"""The request gate, before any route reads a byte of the body: the key, then the body's size.

Every `/v1` route needs a key: it is checked from the `Authorization` header alone (401 with
`WWW-Authenticate: Bearer` for a missing, unknown or revoked key, the body never read), and the
principal is left in the request's state for the routes' role checks. Then every route's body,
public routes' too, is held to `Settings.api_max_body`: a `Content-Length` over it is a 413 at
once, and a body streamed without one (chunked) is counted as it arrives, a 413 as soon as it
passes the limit (the route is then told the client went away, and nothing more is read).

    app.add_middleware(Limits, max_body=settings.api_max_body)
"""

import logging
import re
from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.access.keys import Principal
from hub.api.errors import problem
from schemas.errors import HubError

log = logging.getLogger("hub.api")

PRINCIPAL = "hub.principal"
"""Where the gate leaves the caller's principal in the request's state."""
KEY_NEEDED = "a valid, unrevoked key is needed: Authorization: Bearer <key>"
GATED = "/v1/"
DIGITS = re.compile(r"[0-9]{1,18}")  # ASCII only: str.isdigit() takes "²", which int() refuses


class Limits:
    """ASGI middleware: the key checked before the body, and the body held to `max_body`."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        if scope["path"].startswith(GATED) or scope["path"] == GATED.rstrip("/"):
            try:
                principal = await _principal(scope, headers.get("authorization", ""))
            except HubError as error:  # the access store failed: the hub's fault, not the caller's
                log.error(
                    "failed %s %s: the access store (%s)",
                    scope["method"],
                    scope["path"],
                    type(error).__name__,
                )
                await problem(503, None, "the hub cannot check keys now; try again later")(
                    scope, receive, send
                )
                return
            if principal is None:
                log.info("refused %s %s: 401 before the body", scope["method"], scope["path"])
                response = problem(401, None, KEY_NEEDED)
                response.headers["WWW-Authenticate"] = "Bearer"
                await response(scope, receive, send)
                return
            scope.setdefault("state", {})[PRINCIPAL] = principal
        declared = headers.get("content-length", "")
        if DIGITS.fullmatch(declared) and int(declared) > self.max_body:
            await self._too_large(scope, receive, send, f"a body of {int(declared):,} bytes is")
            return
        await self._counted(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, counting its body; past the limit, answer 413 ourselves."""
        size, cut, answered, started = 0, False, False, False

        async def counting_receive() -> Message:
            nonlocal size, cut, answered
            if cut:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > self.max_body:
                    cut = True
                    if not started:
                        answered = True
                        await self._too_large(scope, receive, send, "the body is")
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if answered:
                return  # the route's answer to the disconnect it was told of: ours went first
            started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not answered:
                raise
            log.debug("the route failed after its body was refused", exc_info=True)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, what: str) -> None:
        log.info("refused %s %s: 413 over the body limit", scope["method"], scope["path"])
        reason = f"{what} over the limit of {self.max_body:,} bytes"
        await problem(413, "body", reason)(scope, receive, send)


def _headers(scope: Scope) -> dict[str, str]:
    """The request's headers by lower-case name (the last of any repeated)."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


async def _principal(scope: Scope, authorization: str) -> Principal | None:
    """The principal of the bearer key in `authorization`, or None."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    app: Any = scope["app"]
    keys = app.state.service.keys
    found: Principal | None = await anyio.to_thread.run_sync(keys.verify, token.strip())
    return found
