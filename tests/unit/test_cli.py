"""The `hub` command: every subcommand documented with an example, exit codes as promised."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from connectors.pseudonym import load_pseudonymiser
from hub.cli import app
from projections.asked import QuestionError
from schemas.errors import HubError

runner = CliRunner()
COMMANDS = sorted(get_command(app).commands)  # type: ignore[attr-defined]


def _hub(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(Path(__file__).resolve().parents[2]), "COLUMNS": "200"},
    )


def test_there_are_the_commands_this_stage_promises() -> None:
    assert {"synth", "connect", "demo", "ingest"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Example" in result.output
    assert f"hub {command}" in result.output


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    folder = tmp_path_factory.mktemp("demo")
    return folder, _hub("demo", "--data-dir", str(folder / "data"), "--people", "400", cwd=folder)


@pytest.mark.slow  # runs the demo: a whole synthetic place
def test_the_demo_runs_every_agency_into_the_store_and_says_where_its_data_is(
    demo: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    folder, result = demo
    assert result.returncode == 0, result.stderr
    assert "what each agency sent, and what the hub accepted" in result.stdout
    assert "the worker applied" in result.stdout
    assert "hub serve" in result.stdout  # the demo ends saying how to open the dashboard
    assert "http://127.0.0.1:8000/dashboard" in result.stdout
    for slug in (
        "demand",
        "repeat_demand",
        "many_agencies",
        "waits",
        "bounces",
        "attainment",
        "journeys",
    ):
        assert f"{slug}" in result.stdout
    assert str(folder / "data") in result.stdout
    assert (folder / "data" / "hub.db").stat().st_size > 0
    assert "demo-agencies" in result.stdout  # where the agencies' own material went
    assert (folder / "demo-agencies" / "place-key.toml").exists()  # ./demo-agencies by default


@pytest.mark.slow  # runs the demo: a whole synthetic place
def test_no_name_nhs_number_or_agency_pseudonym_is_stored_by_the_demo(
    demo: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    folder, _ = demo
    data, agencies = folder / "data", folder / "demo-agencies"
    with (agencies / "truth" / "people.csv").open(encoding="utf-8", newline="") as people:
        rows = list(csv.DictReader(people))
    pseudonymiser = load_pseudonymiser(agencies / "place-key.toml")
    agency_stage = {pseudonymiser.person(r["nhs_number"]) for r in rows}
    secrets = {r["nhs_number"] for r in rows} | {r["name"] for r in rows}
    assert len(secrets) > 400
    held = [p for p in data.rglob("*") if p.is_file()]  # every file, the place file too
    assert {p.name for p in held} >= {"hub.db", "log.sqlite", "seen.sqlite", "place.toml"}
    for path in held:
        content = path.read_bytes().decode("utf-8", errors="replace")
        assert [s for s in secrets if s in content] == [], path
        assert [p for p in agency_stage if p in content] == [], path


@pytest.mark.slow  # runs the demo: a whole synthetic place
def test_connect_exits_1_when_rows_are_refused_and_names_them(
    demo: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    folder, _ = demo
    agencies = folder / "demo-agencies"  # the agency's own files, as `hub demo` left them
    result = _hub(
        "connect",
        str(agencies / "extracts" / "nhs-gp.csv"),
        "--mapping",
        str(agencies / "mappings" / "nhs-gp.toml"),
        "--place",
        str(agencies / "place.toml"),
        "--key",
        str(agencies / "place-key.toml"),
        "--out",
        str(folder / "gp.jsonl"),
        cwd=folder,
    )
    refused = result.stdout.count("refused: nhs-gp.csv, line ")
    assert (result.returncode, refused > 0) in {(1, True), (0, False)}
    assert (folder / "gp.jsonl").stat().st_size > 0


def test_bad_input_exits_2_with_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    result = _hub(
        "connect", "x.csv", "--mapping", "m.toml", "--place", "nowhere.toml", cwd=tmp_path
    )
    assert result.returncode == 2
    assert "cannot read the place file" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # runs the demo: a whole synthetic place
def test_query_answers_in_json_with_suppressed_cells_marked(
    demo: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    folder, _ = demo
    data = str(folder / "data")
    result = _hub(
        "query",
        "demand",
        "--by",
        "locality,need",
        "--format",
        "json",
        "--data-dir",
        data,
        cwd=folder,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["question"] == "demand"
    assert answer["period"] is None  # the whole record
    cells = [v for row in answer["rows"] for v in row.values() if isinstance(v, dict)]
    assert cells
    # perturbation: demand's counts are no longer suppressed; any cell that is holds no value.
    assert all(c["suppressed"] is (c["value"] is None) for c in cells)
    assert all(c["value"] is None or c["value"] % 5 == 0 for c in cells)


GRID = {
    "2024-03": ("month", "2024-03", "2024-03"),
    "2024-Q2": ("quarter", "2024-04", "2024-06"),
    "FY2024-25": ("financial_year", "2024-04", "2025-03"),
    "2025": ("year", "2025-01", "2025-12"),
}


@pytest.mark.slow  # runs the demo: a whole synthetic place
@pytest.mark.parametrize("label", GRID)
def test_query_answers_each_kind_of_grid_period(
    demo: tuple[Path, subprocess.CompletedProcess[str]], label: str
) -> None:
    folder, _ = demo
    data = str(folder / "data")
    kind, start, end = GRID[label]
    for how in (["--period", label], ["--from", start, "--to", end]):
        result = _hub("query", "demand", *how, "--format", "json", "--data-dir", data, cwd=folder)
        assert result.returncode == 0, result.stderr
        answer = json.loads(result.stdout)
        assert answer["period"] == {"label": label, "kind": kind, "start": start, "end": end}
        assert all(start <= row["month"] <= end for row in answer["rows"])
    table = _hub("query", "waits", "--period", label, "--data-dir", data, cwd=folder)
    assert table.returncode == 0, table.stderr
    assert f"waits, {label}" in _normal(table.stdout)  # the table's title names the period


@pytest.mark.slow  # runs the demo: a whole synthetic place
def test_disclosure_prints_the_published_rules_and_the_records_periods(
    demo: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    folder, _ = demo
    data = str(folder / "data")
    result = _hub("disclosure", "--json", "--data-dir", data, cwd=folder)
    assert result.returncode == 0, result.stderr
    rules = json.loads(result.stdout)
    assert rules["method"] == "cell key perturbation"
    assert rules["max_error"] == rules["max_noise"] + rules["rounding_base"] // 2
    labels = [c["label"] for c in rules["periods"]["choices"]]
    assert {"2024-01", "2024-Q1", "FY2024-25", "2024"} <= set(labels)
    assert list(rules["questions"])[:2] == ["demand", "repeat_demand"]
    printed = _normal(_hub("disclosure", "--data-dir", data, cwd=folder).stdout)
    assert f"perturbed by at most {rules['max_noise']}" in printed
    assert f"within {rules['max_error']} of the true count" in printed
    assert "FYyyyy-yy" in printed
    assert "What you cannot infer" in printed


@pytest.mark.parametrize(
    ("args", "field", "words"),
    [
        (["--from", "2024-01", "--to", "2024-05"], "from", "not the first and last months of one"),
        (["--from", "2024-02", "--to", "2025-01"], "from", "not the first and last months of one"),
        (["--period", "2024-Q2", "--from", "2024-04", "--to", "2024-06"], "period", "never both"),
        (["--period", "2024-Q9"], "period", "period is not a label of the grid"),
        (["--from", "2024-01"], "to", "give both from and to"),
    ],
)
def test_query_refuses_a_period_off_the_grid_or_given_twice_before_reading_anything(
    tmp_path: Path, args: list[str], field: str, words: str
) -> None:
    folder = tmp_path / "none"
    result = runner.invoke(app, ["query", "demand", *args, "--data-dir", str(folder)])
    refused = result.exception
    assert isinstance(refused, QuestionError), result.output
    assert refused.field == field
    assert words in str(refused)
    assert "YYYY-Qn" in str(refused)  # it says how to ask on the grid
    assert not folder.exists()


def test_a_span_off_the_grid_exits_2_with_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    result = _hub("query", "demand", "--from", "2024-01", "--to", "2024-05", cwd=tmp_path)
    assert result.returncode == 2
    assert "error: from and to are not the first and last months" in _normal(result.stderr)
    assert "Traceback" not in result.stderr


def test_disclosure_without_a_place_says_so(tmp_path: Path) -> None:
    result = runner.invoke(app, ["disclosure", "--data-dir", str(tmp_path / "none")])
    assert isinstance(result.exception, HubError)
    assert "cannot read the place file" in str(result.exception)


def _normal(text: str) -> str:
    """The printed text with Rich's line wrapping undone."""
    return " ".join(text.split())


def test_connect_prints_each_refusal_whole_brackets_and_all(tmp_path: Path) -> None:
    # Rich reads `[...]` as markup: unescaped, "map it in [codes.locality]" loses its hint,
    # and a file or column name with brackets loses part of itself.
    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    key = tmp_path / "place-key.toml"
    key.write_text(f'version = 1\nkey = "{"00" * 32}"\n', encoding="utf-8")
    header = (
        "Occurrence Ref,Version,NHS No,Date/Time,Beat,Activity,Referred To,Concern,Priority,"
        "Channel,Service,Linked Ref"
    )
    rows = [
        "R1,1,943 476 5919,05/03/2024 10:00,Beat 1 Ashfield,ARREST,,DA,,999,,",
        "R2,1,943 476 5919,05/03/2024 10:00,Beat 9 [old],CONTACT,,DA,,999,,",
    ]
    extract = tmp_path / "police [march].csv"
    extract.write_bytes(
        "\n".join([header, *rows]).encode()
        + b"\nR3,1,943 476 5919,05/03/2024 10:00,Beat 1 Ashfi\xebld,CONTACT,,DA,,999,,\n"
    )
    result = _hub(
        "connect",
        str(extract),
        "--mapping",
        str(fixtures / "police-north.toml"),
        "--place",
        str(fixtures / "place.toml"),
        "--key",
        str(key),
        "--out",
        str(tmp_path / "out [1].jsonl"),
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr
    printed = _normal(result.stdout)
    for line, column, reason in [
        (2, "Activity", "is not one of the mapping's [event_types]"),
        (3, "Beat", "is not a locality of the place; map it in [codes.locality]"),
        (4, "Beat", 'add `encoding = "cp1252"` to the mapping (at the top, above [columns])'),
    ]:
        assert f"refused: police [march].csv, line {line}, column {column!r}: " in printed
        assert reason in printed
    assert f"events written to {tmp_path / 'out [1].jsonl'}" in printed


def test_an_error_with_brackets_is_printed_whole(tmp_path: Path) -> None:
    result = _hub(
        "connect", "x.csv", "--mapping", "m.toml", "--place", "[nowhere].toml", cwd=tmp_path
    )
    assert result.returncode == 2
    assert "error: [nowhere].toml: cannot read the place file" in _normal(result.stderr)


def test_ingest_and_publish_print_each_reason_whole() -> None:
    from connectors.publish import AgencyRun
    from hub.cli.common import console
    from hub.cli.render import report_run

    reason = "police.csv, line 3, column 'Beat': is not a locality; map it in [codes.locality]"
    run = AgencyRun("police-north", "police", rows=1, refused=1, reasons=[reason])
    with console.capture() as captured, pytest.raises(typer.Exit):
        report_run(run, "police [march].csv", "sent to [the hub]")
    printed = _normal(captured.get())
    assert reason in printed
    assert printed.startswith(reason)
    assert "police [march].csv: 1 refused at the agency" in printed
    assert printed.endswith("sent to [the hub]")


def test_publish_without_a_hub_to_send_to_points_at_ingest_and_writes_nothing(
    tmp_path: Path,
) -> None:
    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    result = _hub(
        "publish",
        "police.csv",
        "--mapping",
        str(fixtures / "police-north.toml"),
        "--place",
        str(fixtures / "place.toml"),
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    said = _normal(result.stderr)
    assert "say where to send the extract: --url (a served hub) or --client-config" in said
    assert "`hub ingest` takes an extract into a hub in this process" in said
    assert list(tmp_path.iterdir()) == []  # no hub data folder, nothing at all


def test_the_agencies_place_key_is_looked_for_in_the_demos_agencies_folder() -> None:
    for name in ("publish", "ingest"):
        command = get_command(app).commands[name]  # type: ignore[attr-defined]
        [key] = [p for p in command.params if p.name == "key"]
        assert str(key.default) == "demo-agencies/place-key.toml", name


def test_a_run_with_events_not_answered_in_time_says_how_many_and_exits_1() -> None:
    from connectors.publish import AgencyRun
    from hub.cli.common import console, errors
    from hub.cli.render import report_run

    run = AgencyRun("police-north", "police", rows=5, sent=5, accepted=3)
    with console.capture() as out, errors.capture() as err, pytest.raises(typer.Exit) as exit_:
        report_run(run, "police.csv", "sent to [the topic]", failed="not answered: [why]")
    assert exit_.value.exit_code == 1
    assert "3 accepted, 0 duplicate, 0 rejected, 2 not answered yet; sent to [the topic]" in (
        _normal(out.get())
    )
    assert "error: not answered: [why]" in _normal(err.get())
