"""The API application: assembles the routers, the error handlers and the service.

    app = create_app(Settings(data_dir=Path("hub-data")))
    uvicorn.run(app, host="127.0.0.1", port=8000)

Only `/health`, `/openapi.json`, the docs page (`/docs`, its assets served by the hub itself
from `fastapi-offline`: nothing loads from the internet) and the dashboard's pages
(`/dashboard`, which fetch their figures with the key signed in) answer without a key.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline

from hub.api import (
    agency,
    any_role,
    auditor,
    commissioner,
    dashboard,
    errors,
    headers,
    steward,
)
from hub.api.limits import Limits
from hub.api.service import open_service
from hub.settings import Settings

DESCRIPTION = """The Shared Outcomes Hub: agencies publish, commissioners ask, stewards agree,
auditors read. Every route but this page, `/health` and `/openapi.json` needs a key
(`hub keys create`), sent as `Authorization: Bearer <key>`; each role sees only its routes."""


def create_app(settings: Settings, place: Path | None = None, worker: bool = True) -> FastAPI:
    """The hub's API over the hub the settings describe (with `worker`, applying its log)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with open_service(settings, place, worker) as service:
            app.state.service = service
            app.state.audit = service.runtime.audit
            yield

    app = FastAPIOffline(
        title="Shared Outcomes Hub",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(errors.single_valued)],
    )
    for module in (agency, commissioner, steward, auditor, any_role, dashboard):
        app.include_router(module.router)
    errors.install(app)
    app.add_middleware(Limits, max_body=settings.api_max_body)
    headers.install(app)  # outermost: the gate's own refusals carry the headers too

    @app.get("/health", tags=["public"], summary="Whether the hub answers")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
