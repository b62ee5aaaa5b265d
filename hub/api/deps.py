"""Authentication and role checks: dependencies on every route (`Annotated` aliases).

@router.get("/v1/questions")
def questions(who: Commissioner, service: Service) -> ...
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub.access.keys import Principal
from hub.api.errors import server_side
from hub.api.limits import KEY_NEEDED, PRINCIPAL
from hub.api.service import HubService
from hub.audit.auditor import Audit

bearer = HTTPBearer(
    auto_error=False,
    description="A key from `hub keys create`, sent as `Authorization: Bearer hub.<id>.<secret>`.",
)


def get_service(request: Request) -> HubService:
    service: HubService = request.app.state.service
    return service


Service = Annotated[HubService, Depends(get_service)]


def get_audit(request: Request) -> Audit:
    audit: Audit = request.app.state.audit
    return audit


AuditOf = Annotated[Audit, Depends(get_audit)]


def authenticated(
    request: Request,
    service: Service,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller's principal (as the gate found it, before the body); 401 for a missing,
    unknown or revoked key."""
    principal: Principal | None = request.scope.get("state", {}).get(PRINCIPAL)
    if principal is None and credentials:
        with server_side():  # the access store failing is the hub's fault: 503, not 401 nor 400
            principal = service.keys.verify(credentials.credentials)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=KEY_NEEDED,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return principal


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def role(*allowed: str) -> Callable[[Principal], Principal]:
    """A dependency admitting only keys of the `allowed` roles (403 for the others)."""

    def check(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        if principal.role not in allowed:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"{_article(principal.role)} {principal.role} key may not use this route "
                f"(it is for: "
                f"{', '.join(allowed)})",
            )
        return principal

    return check


AnyKey = Annotated[Principal, Depends(authenticated)]
AgencyKey = Annotated[Principal, Depends(role("agency"))]
CommissionerKey = Annotated[Principal, Depends(role("commissioner"))]
StewardKey = Annotated[Principal, Depends(role("steward"))]
AuditorKey = Annotated[Principal, Depends(role("auditor"))]
