"""The README's first lines give the two commands, and CI runs the second one as written."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _commands() -> list[str]:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("```sh") + 1
    return lines[start : lines.index("```", start)]


def test_the_readme_opens_with_the_demo_and_the_test_commands() -> None:
    demo, tests = _commands()
    assert (ROOT / "README.md").read_text(encoding="utf-8").splitlines().index("```sh") < 5
    assert demo.endswith("hub demo")
    assert tests.endswith("pytest")


def test_ci_runs_the_readme_test_command_as_written() -> None:
    _, tests = _commands()
    assert tests in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
