"""One place where errors become responses: `{"field": ..., "reason": ...}`, never a refused
value, a stack trace or an internal path."""

import logging

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from hub.api.agency import BodyError, TooLargeError, UnsupportedError
from hub.api.service import NotReadyError
from hub.audit.replay import ReplayError
from hub.domain.partnership import PartnershipError
from hub.erasure.erase import UnknownRecordError
from hub.log import LogError
from hub.store.ledger import LedgerError
from hub.store.partnerships import PartnershipNotFound
from projections.questions import QuestionError
from schemas.errors import ContractError, HubError

log = logging.getLogger("hub.api")

STATUS: list[tuple[type[HubError], int, str]] = [
    (TooLargeError, 413, "body"),
    (BodyError, 400, "body"),
    (UnsupportedError, 415, "content-type"),
    (PartnershipNotFound, 404, "partnership"),
    (PartnershipError, 409, "partnership"),
    (QuestionError, 422, "query"),
    (ContractError, 422, "body"),
    (NotReadyError, 503, "place"),
    (LogError, 503, "log"),  # the log briefly unavailable: try again (HttpPublisher does)
    (UnknownRecordError, 404, "recordref"),
    (LedgerError, 404, "leaf"),
    (ReplayError, 422, "query"),
]


def problem(status: int, field: str | None, reason: str) -> JSONResponse:
    return JSONResponse({"field": field, "reason": reason}, status_code=status)


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""

    @app.exception_handler(HubError)
    def hub_error(request: Request, error: HubError) -> JSONResponse:
        status, field = next(
            ((code, name) for kind, code, name in STATUS if isinstance(error, kind)),
            (400, "request"),
        )
        kind = type(error).__name__
        log.info("refused %s %s: %s (%s)", request.method, request.url.path, status, kind)
        return problem(status, field, str(error))

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
