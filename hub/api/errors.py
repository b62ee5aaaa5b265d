"""One place where errors become responses: `{"field": ..., "reason": ...}` for every 4xx and
5xx (unknown routes and methods too), never a refused value, a stack trace or an internal path.

A HubError carries its own status and field; its message is for the command line, where the
user typed the value, so here every quoted value in it (`{x!r}`) is withheld. Fields are named
by their schema name; an unknown key is "an unknown attribute" under its parent, never its name.
A 5xx is a server fault: its reason is generic, and the log has its kind and stack, never the
exception's message (which may quote a value).
"""

import logging
import re
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic_core import ErrorDetails
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas.errors import HubError
from schemas.validation import describe_error

log = logging.getLogger("hub.api")

FAULT = "the hub failed to answer; the operator can see why in its log"
UNAVAILABLE = "the hub cannot answer now: try again later; the operator can see why in its log"
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
WITHHELD = "[value withheld]"
MIN_WITHHELD = 3  # shorter values ("a", "no") would blot out the message's own words
MAX_BODY_SCANNED = 1 << 20
# Kinds whose message names what was asked for: answered with a reason of their own.
NOT_FOUND = {"PartnershipNotFound": ("slug", "no such partnership: form it first")}
ROUTING = {404: ("path", "no such route"), 405: ("method", "this route does not take that method")}


class ServerFaultError(HubError):
    """A server-side store (access keys, record keys, the log) failed: 503, a generic reason."""

    status = 503
    field = None


class RepeatedError(HubError):
    """A query parameter given more than once (the hub never picks one)."""

    status = 422
    field = "query"


def problem(status: int, field: str | None, reason: str) -> JSONResponse:
    return JSONResponse({"field": field, "reason": reason}, status_code=status)


def withheld(message: str, given: Iterable[str] = ()) -> str:
    """`message` with every quoted value in it withheld, and every value `given` (a value the
    request carried, which a message may name unquoted: `{partner} is not a partner`)."""
    for value in sorted(set(given), key=len, reverse=True):
        if len(value) >= MIN_WITHHELD:  # as a whole word: `json` stays in `cloudevents+json`
            word = rf"(?<![\w+/-]){re.escape(value)}(?![\w+/-])"
            message = re.sub(word, WITHHELD, message)
    return QUOTED.sub(WITHHELD, message)


def route_of(scope: Scope) -> str:
    """The route's template (`/v1/questions/{slug}`) for a log line: never the path asked for,
    which may carry a value (`/v1/questions/9434765919`)."""
    return str(getattr(scope.get("route"), "path", "(no such route)"))


def given(request: Request) -> list[str]:
    """Every value the request carried, as text: path and query parameters (the names of those
    the route does not declare too: any name may be a value), `ce-*` headers, the keys and
    values of a JSON body already read (the steward's commands). A declared name (`period`,
    `from`) is the API's own word, which a reason may use to say how to ask."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    known = _query_names(dependant) if isinstance(dependant, Dependant) else set()
    values = [*request.path_params.values()]
    values += [name for name in request.query_params if name not in known]
    values += request.query_params.values()
    values += [v for k, v in request.headers.items() if k.startswith("ce-")]
    body = getattr(request, "_body", b"")
    if isinstance(body, bytes) and 0 < len(body) <= MAX_BODY_SCANNED:
        with suppress(orjson.JSONDecodeError):
            values += _leaves(orjson.loads(body))
    return [str(v) for v in values]


def _leaves(document: Any) -> list[str]:
    if isinstance(document, dict):
        return [str(k) for k in document] + [x for v in document.values() for x in _leaves(v)]
    if isinstance(document, list):
        return [x for v in document for x in _leaves(v)]
    return [] if document is None else [str(document)]


@contextmanager
def server_side() -> Iterator[None]:
    """A HubError raised in the block is the server's fault (a store failed), not the caller's."""
    try:
        yield
    except HubError as error:
        if error.status >= 500:
            raise
        raise ServerFaultError(type(error).__name__) from error


def single_valued(request: Request) -> None:
    """A dependency of every route: each query parameter at most once."""
    params = request.query_params
    repeated = [name for name in params if len(params.getlist(name)) > 1]
    if repeated:
        route = request.scope.get("route")
        dependant = getattr(route, "dependant", None)
        known = _query_names(dependant) if isinstance(dependant, Dependant) else set()
        named = next((name for name in repeated if name in known), None)
        raise RepeatedError(
            "a query parameter is given more than once: give each once", field=named or "query"
        )


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters a route declares, in its dependencies too."""
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def request_error(error: ErrorDetails | dict[str, Any]) -> tuple[str | None, str]:
    """One of FastAPI's request errors as (field, reason), by schema names only."""
    if error.get("type") == "json_invalid":
        return "body", "is not valid JSON"
    details: ErrorDetails = {  # type: ignore[typeddict-item]
        "type": str(error.get("type", "")),
        "loc": tuple(error.get("loc", ())),
        "msg": str(error.get("msg", "is invalid")),
        "ctx": error.get("ctx") or {},
    }
    field, reason = describe_error(details, hide_unknown=True)
    if details["type"] == "value_error":
        reason = withheld(reason)
    return (None if field == "(event)" else field), reason


def install(app: FastAPI) -> None:
    """Register the handlers, and the fault guard, on `app`."""

    @app.exception_handler(HubError)
    def hub_error(request: Request, error: HubError) -> JSONResponse:
        kind = type(error).__name__
        log.info(
            "refused %s %s: %s (%s)", request.method, route_of(request.scope), error.status, kind
        )
        if error.status >= 500:
            return problem(error.status, None, UNAVAILABLE if error.status == 503 else FAULT)
        field, reason = NOT_FOUND.get(kind, (error.field, withheld(str(error), given(request))))
        return problem(error.status, field, reason)

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = error.errors()
        field, reason = request_error(errors[0]) if errors else (None, "invalid request")
        log.info("refused %s %s: 422 at %s", request.method, route_of(request.scope), field)
        return problem(422, field, reason)

    @app.exception_handler(HTTPException)
    def http_error(request: Request, error: HTTPException) -> JSONResponse:
        if error.status_code >= 500:
            return problem(error.status_code, None, FAULT)
        reason = withheld(str(error.detail), given(request))
        field, reason = ROUTING.get(error.status_code, (None, reason))
        if error.status_code in {401, 403}:
            field = "authorization"
        response = problem(error.status_code, field, reason)
        for name, value in (error.headers or {}).items():
            response.headers[name] = value
        return response

    app.add_middleware(FaultGuard)


class FaultGuard:
    """Any exception no handler took is a 500 in the one shape: logged by kind and stack,
    without its message, and not raised on (so no server logs the message either)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as error:
            stack = "".join(traceback.format_tb(error.__traceback__))
            log.error(
                "failed %s %s: %s\n%s",
                scope["method"],
                route_of(scope),
                type(error).__name__,
                stack,
            )
            if started:
                return
            await problem(500, None, FAULT)(scope, receive, send)
