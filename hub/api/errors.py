"""One place where errors become responses: `{"field": ..., "reason": ...}`, never a refused
value, a stack trace or an internal path. A HubError carries its own status and field."""

import logging

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from schemas.errors import HubError

log = logging.getLogger("hub.api")


def problem(status: int, field: str | None, reason: str) -> JSONResponse:
    return JSONResponse({"field": field, "reason": reason}, status_code=status)


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""

    @app.exception_handler(HubError)
    def hub_error(request: Request, error: HubError) -> JSONResponse:
        kind = type(error).__name__
        log.info("refused %s %s: %s (%s)", request.method, request.url.path, error.status, kind)
        return problem(error.status, error.field, str(error))

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid request"}
        field = ".".join(str(part) for part in first.get("loc", ()))
        reason = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        log.info("refused %s %s: 422 at %s", request.method, request.url.path, field)
        return problem(422, field or None, reason)

    @app.exception_handler(HTTPException)
    def http_error(request: Request, error: HTTPException) -> JSONResponse:
        response = problem(error.status_code, None, str(error.detail))
        for name, value in (error.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.error("failed %s %s", request.method, request.url.path, exc_info=error)
        return problem(500, None, "the hub failed to answer; the operator can see why in its log")
