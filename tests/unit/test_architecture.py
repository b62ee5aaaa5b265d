"""Dependencies point one way (ARCHITECTURE.md): a wrong-way import fails this test."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = ("schemas", "connectors", "hub", "projections")
# Which of our packages each folder may import (itself always allowed).
ALLOWED = {
    "schemas": set(),
    "connectors": {"schemas"},
    "hub/domain": {"schemas"},
    "hub/log": {"schemas"},
    "projections": {"schemas"},
    "hub": {"schemas", "connectors", "hub", "projections"},
}


def _folder_of(path: Path) -> str:
    relative = path.relative_to(ROOT).as_posix()
    for folder in sorted(ALLOWED, key=len, reverse=True):
        if relative.startswith(folder + "/"):
            return folder
    raise AssertionError(f"{relative} is in no folder of ARCHITECTURE.md's table")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _target(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] not in OURS:
        return None
    if parts[0] == "hub" and len(parts) > 1 and parts[1] in {"domain", "log"}:
        return f"hub/{parts[1]}"
    return parts[0]


def wrong_way_imports(root: Path = ROOT) -> list[str]:
    """Every import, across our folders, that points against the flow."""
    problems = []
    for package in OURS:
        for path in sorted((root / package).rglob("*.py")):
            folder = _folder_of(path)
            for module in sorted(_imports(path)):
                target = _target(module)
                if target is None or target == folder or target.startswith(folder + "/"):
                    continue
                if target not in ALLOWED[folder] and target.split("/")[0] not in ALLOWED[folder]:
                    problems.append(f"{path.relative_to(root)} imports {module}")
    return problems


def test_no_module_imports_against_the_flow() -> None:
    assert wrong_way_imports() == []


def test_a_wrong_way_import_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for package in OURS:
        (tmp_path / package).mkdir()
    (tmp_path / "schemas" / "bad.py").write_text("from connectors.pseudonym import Pseudonymiser\n")
    (tmp_path / "projections" / "bad.py").write_text("import hub.cli\n")
    (tmp_path / "connectors" / "fine.py").write_text("from schemas.events import AgencyEvent\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert wrong_way_imports(tmp_path) == [
        "schemas/bad.py imports connectors.pseudonym",
        "projections/bad.py imports hub.cli",
    ]
