"""The commissioner's routes: the questions, and their answers under disclosure control."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from hub.access.keys import Principal
from hub.api.deps import CommissionerKey, Service, get_audit
from hub.api.errors import server_side
from hub.api.service import HubService
from projections.asked import parse_cuts
from projections.periods import asked_period
from projections.questions import QUESTIONS

router = APIRouter(prefix="/v1", tags=["commissioner"])

SPAN = "Only with `to`, and only where the two name one grid period; better, ask `period`."
Month = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description=SPAN)]
GridLabel = Annotated[
    str | None,
    Query(
        max_length=20,
        description="One period of the fixed grid: a month `2025-03`, a quarter `2025-Q1`, a "
        "financial year `FY2024-25` (April to March) or a calendar year `2025`; absent, the "
        "whole record. `GET /v1/disclosure` lists the periods the record covers.",
        examples=["2025-Q1"],
    ),
]
By = Annotated[str, Query(description="Cuts, comma-separated; each question allows its own.")]
Format = Annotated[Literal["json", "csv"], Query()]


class AnswerQuery:
    """The query of an answer route: cuts, grid period and format (a dependency)."""

    def __init__(
        self,
        by: By = "",
        period: GridLabel = None,
        from_: Annotated[Month, Query(alias="from")] = None,
        to: Month = None,
        format: Format = "json",
    ) -> None:
        self.by, self.format = by, format
        self.period, self.from_, self.to = period, from_, to


Asked = Annotated[AnswerQuery, Depends()]


class QuestionInfo(BaseModel):
    slug: str
    description: str
    cuts: list[str]


@router.get("/questions", response_model=list[QuestionInfo], summary="The questions")
def questions(who: CommissionerKey) -> list[QuestionInfo]:
    """Every question the hub answers, with the cuts each allows."""
    return [
        QuestionInfo(slug=slug, description=q.description, cuts=list(q.cuts))
        for slug, q in QUESTIONS.items()
    ]


@router.get(
    "/questions/{slug}",
    summary="One question's answer, disclosure-controlled",
    responses={200: {"content": {"text/csv": {}}}, 404: {}, 422: {}},
)
async def question(
    slug: str,
    who: CommissionerKey,
    service: Service,
    request: Request,
    asked: Asked,
) -> Response:
    """Only figures that passed disclosure control (`GET /v1/disclosure` publishes the rules and
    the error bound), for one period of the grid or the whole record: `period` is
    `{"label", "kind", "start", "end"}` or null. A suppressed cell (a rate or percentile too
    small to show) is `{"value": null, "suppressed": true}`; the answer carries the store
    position it was computed at."""
    return await answer_response(service, who, request, slug, asked)


async def answer_response(
    service: HubService,
    who: Principal,
    request: Request,
    slug: str,
    asked: AnswerQuery,
) -> Response:
    """Shared by the commissioner's and the steward's routes: answer, log the read, render."""
    if slug not in QUESTIONS:
        return JSONResponse(
            {"field": "slug", "reason": f"no such question: ask one of {', '.join(QUESTIONS)}"},
            status_code=404,
        )
    cuts = parse_cuts(asked.by)
    period = asked_period(asked.period, asked.from_, asked.to)
    table, position = await run_in_threadpool(service.answer, slug, cuts, period)
    with server_side():  # the access store failing is the hub's fault, not the caller's
        service.keys.record(who, request.url.path, slug, ",".join(cuts) or None, position)
    # The latest signed checkpoint's tree size: the ledger an auditor can check this against.
    latest = await run_in_threadpool(get_audit(request).latest)
    tree_size = latest[1].size if latest else 0
    if asked.format == "csv":
        headers = {"Hub-Position": str(position), "Hub-Checkpoint-Tree-Size": str(tree_size)}
        headers["Hub-Period"] = period.label if period else "whole record"
        return Response(table.to_csv(), media_type="text/csv", headers=headers)
    shown = period.to_json() if period else None
    document: dict[str, Any] = {"question": slug, "by": cuts, "period": shown}
    extra = {"position": position, "treeSize": tree_size}
    return JSONResponse(document | extra | table.to_json())
