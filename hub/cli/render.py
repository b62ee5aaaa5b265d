"""How the `hub` commands print: answers, connector reports and runs."""

from collections.abc import Sequence

import typer
from rich.markup import escape
from rich.table import Table

from connectors.publish import AgencyRun
from connectors.run import ConnectReport
from hub.cli.common import console, errors
from projections.disclosure import Cell, ControlledTable
from projections.periods import Period
from projections.published import max_error
from projections.questions import QUESTIONS
from schemas.place import Disclosure


def rules_note(rules: Disclosure) -> str:
    """What every printed figure has passed, in a sentence (`hub disclosure` says it whole)."""
    return (
        f"Counts are perturbed by at most {rules.max_noise} and rounded to the nearest "
        f"{rules.rounding_base}, so any count may be off by up to {max_error(rules)}; a true "
        f"count from 1 to {rules.threshold} never shows (it and a true 0 can both show as 0). "
        f"[dim]*[/] suppressed: a rate whose denominator shows 0, or a median or percentile of "
        f"a group under {rules.min_group_for_percentiles}."
    )


def shown(cell: Cell) -> str:
    return "*" if cell.suppressed else f"{cell.value:,}"


def print_answer(
    slug: str,
    by: Sequence[str],
    period: Period | None,
    table: ControlledTable,
    limit: int | None,
) -> None:
    span = f", {_months(period)}" if period else ", the whole record"
    cut = f" by {', '.join(by)}" if by else ""
    title = escape(f"{slug}{cut}{span}: {QUESTIONS[slug].description}")
    out = Table(title=title, title_justify="left")
    measures = table.measures
    for name in (*table.dims, *measures):
        out.add_column(name, justify="right" if name in measures else "left")
    rows = list(table.rows) if limit is None else list(table.rows)[:limit]
    for row in rows:
        out.add_row(
            *(escape(str(row.dims[d])) for d in table.dims),
            *(shown(row.cells[m]) for m in measures),
        )
    for row in table.totals:
        dims = (escape(str(row.dims.get(d, "all"))) for d in table.dims)
        out.add_row(*dims, *(shown(row.cells[m]) for m in measures), style="bold")
    console.print(out)
    if limit is not None:
        again = f"hub query {slug}" + (f" --by {','.join(by)}" if by else "")
        again += f" --period {period.label}" if period else ""
        more = len(table.rows) - limit
        lead = f"  ... {more:,} more rows" if more > 0 else "  asked as"
        console.print(escape(f"{lead}: `{again}`"), highlight=False)


def _months(period: Period) -> str:
    """A period's label, with its months where the label does not say them."""
    if period.kind == "month":
        return period.label
    return f"{period.label} ({period.start} to {period.end})"


def report_run(run: AgencyRun, what: str, then: str, failed: str | None = None) -> None:
    """An extract's outcome as `hub ingest` and `hub publish` print it; exit 1 if any row was
    refused or any event rejected, or where `failed` says what else went wrong (printed last,
    as an error)."""
    for problem in run.reasons[:50]:
        console.print(f"  {escape(problem)}", highlight=False)
    waiting = f", {run.unanswered:,} not answered yet" if run.unanswered else ""
    console.print(
        escape(
            f"{what}: {run.refused:,} refused at the agency, {run.accepted:,} accepted, "
            f"{run.duplicate:,} duplicate, {run.rejected:,} rejected{waiting}; {then}"
        )
    )
    if failed is not None:
        errors.print(f"[red]error:[/] {escape(failed)}", highlight=False)
    if run.rejected or run.refused or failed is not None:
        raise typer.Exit(1)


def print_reports(
    reports: list[ConnectReport], show: int, sectors: dict[str, str] | None = None
) -> None:
    table = Table(title="What each agency's connector produced")
    for name in ("agency", "sector", "rows", "events", "refused"):
        table.add_column(name, justify="right" if name in {"rows", "events", "refused"} else "left")
    for r in reports:
        sector = (sectors or {}).get(r.agency, "")
        table.add_row(
            escape(r.agency),
            escape(sector),
            f"{r.rows:,}",
            f"{r.events:,}",
            f"{len(r.rejections):,}",
        )
    if len(reports) > 1:
        rows = sum(r.rows for r in reports)
        events = sum(r.events for r in reports)
        refused = sum(len(r.rejections) for r in reports)
        table.add_row("all", "", f"{rows:,}", f"{events:,}", f"{refused:,}", style="bold")
    console.print(table)
    rejections = [rejection for r in reports for rejection in r.rejections]
    for rejection in rejections[:show]:
        console.print(f"  refused: {escape(str(rejection))}", highlight=False)
    if len(rejections) > show:
        console.print(f"  ... and {len(rejections) - show:,} more refused rows")
