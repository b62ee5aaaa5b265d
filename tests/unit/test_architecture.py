"""The folders show the flow (README, Layout): each imports only from the stages before it, and
no module imports itself round a circle. A wrong-way import or a cycle fails this test, and so
do imports made only for type checking (`if TYPE_CHECKING:`) or inside a function."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = ("schemas", "connectors", "projections", "hub")

# Each folder (or module of its own) in the order of the flow, with what it may import.
STAGES: dict[str, set[str]] = {
    "schemas": set(),
    "connectors": {"schemas"},
    "projections": {"schemas"},
    "hub/log": {"schemas"},
    "hub/settings.py": {"schemas", "hub/log"},
    "hub/domain": {"schemas"},
    "hub/keys": {"schemas"},
    "hub/store": {"schemas", "hub/domain"},
    "hub/access": {"schemas"},
    "hub/ingest": {"schemas", "connectors", "hub/log", "hub/keys"},
    "hub/worker": {"schemas", "hub/log", "hub/settings.py", "hub/domain", "hub/keys", "hub/store"},
    "hub/projection": {"schemas", "projections", "hub/domain", "hub/keys", "hub/store"},
    "hub/audit": {
        "schemas",
        "projections",
        "hub/settings.py",
        "hub/domain",
        "hub/keys",
        "hub/store",
        "hub/projection",
    },
    "hub/erasure": {"schemas", "hub/settings.py", "hub/keys", "hub/store", "hub/projection"},
    "hub/enrolment": {"schemas", "hub/log", "hub/settings.py"},
    "hub/agency": {"schemas", "connectors", "hub/log"},
    "hub/gateway": {
        "schemas",
        "connectors",
        "hub/log",
        "hub/settings.py",
        "hub/keys",
        "hub/ingest",
    },
}
BEFORE_WIRING = set(STAGES)
STAGES |= {
    # The one wiring place: every stage before it, nothing after.
    "hub/bootstrap.py": BEFORE_WIRING,
    # What runs a wired hub: the demo, the API and the command line.
    "hub/demo": BEFORE_WIRING | {"hub/bootstrap.py"},
    "hub/api": BEFORE_WIRING | {"hub/bootstrap.py"},
    "hub/cli": BEFORE_WIRING | {"hub/bootstrap.py", "hub/demo", "hub/api"},
    "hub/__init__.py": set(),
}


def _stage_of(relative: str) -> str | None:
    """The stage a file (`hub/ingest/service.py`) or a module path (`hub/ingest/service`)
    belongs to; None outside our folders."""
    for stage in sorted(STAGES, key=len, reverse=True):
        if stage.endswith(".py"):
            if relative in (stage, stage.removesuffix(".py")):
                return stage
        elif relative == stage or relative.startswith(stage + "/"):
            return stage
    return None


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in it (TYPE_CHECKING blocks and functions too);
    `from a.b import c` counts as `a.b.c` where that is a module of ours, else as `a.b`."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                as_path = ROOT / candidate.replace(".", "/")
                is_module = as_path.with_suffix(".py").exists() or as_path.is_dir()
                found.add(candidate if is_module else node.module)
    return found


def _module_path(module: str, root: Path) -> str | None:
    """Our module's file, relative to `root` (`hub/ingest/service.py`), or None."""
    if module.split(".")[0] not in OURS:
        return None
    base = root / module.replace(".", "/")
    if base.is_dir():
        return (base / "__init__.py").relative_to(root).as_posix()
    return base.with_suffix(".py").relative_to(root).as_posix()


def _files(root: Path) -> list[Path]:
    return sorted(p for package in OURS for p in (root / package).rglob("*.py"))


def wrong_way_imports(root: Path = ROOT) -> list[str]:
    """Every import, across our stages, that points against the flow."""
    problems = []
    for path in _files(root):
        relative = path.relative_to(root).as_posix()
        stage = _stage_of(relative)
        if stage is None:
            problems.append(f"{relative} is in no stage of the layout")
            continue
        for module in sorted(_imports(path)):
            if module.split(".")[0] not in OURS:
                continue
            target = _stage_of(module.replace(".", "/"))
            if target is None and module == "hub":
                target = "hub/__init__.py"
            if target is None:
                problems.append(f"{relative} imports {module}, which is in no stage")
            elif target != stage and target not in STAGES[stage]:
                problems.append(f"{relative} imports {module}")
    return problems


def import_cycles(root: Path = ROOT) -> list[list[str]]:
    """Every circle of imports between our modules (Tarjan's strongly connected components)."""
    graph: dict[str, set[str]] = {}
    for path in _files(root):
        relative = path.relative_to(root).as_posix()
        targets = {_module_path(m, root) for m in _imports(path)}
        graph[relative] = {t for t in targets if t is not None and t != relative}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in graph:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_no_module_imports_against_the_flow() -> None:
    assert wrong_way_imports() == []


def test_no_module_imports_round_a_circle() -> None:
    assert import_cycles() == []


def test_at_most_three_modules_sit_directly_in_hub() -> None:
    assert sorted(p.name for p in (ROOT / "hub").glob("*.py")) == [
        "__init__.py",
        "bootstrap.py",
        "settings.py",
    ]


def test_every_module_is_under_three_hundred_lines() -> None:
    long = [
        f"{p.relative_to(ROOT)}: {n}"
        for p in _files(ROOT)
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 300
    ]
    assert long == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for package in OURS:
        (tmp_path / package).mkdir(exist_ok=True)
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_a_wrong_way_import_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _tree(
        tmp_path,
        {
            "schemas/bad.py": "from connectors.pseudonym import Pseudonymiser\n",
            "projections/bad.py": "import hub.cli\n",
            "connectors/fine.py": "from schemas.events import AgencyEvent\n",
            "hub/keys/bad.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from hub.bootstrap import Runtime\n",
            "hub/ingest/bad.py": "def f():\n    from hub.worker.worker import Worker\n",
            "hub/stray.py": "",
        },
    )
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", root)
    assert wrong_way_imports(root) == [
        "hub/ingest/bad.py imports hub.worker.worker",
        "hub/keys/bad.py imports hub.bootstrap",
        "hub/stray.py is in no stage of the layout",
        "projections/bad.py imports hub.cli",
        "schemas/bad.py imports connectors.pseudonym",
    ]


def test_a_cycle_is_caught_even_through_type_checking_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tree(
        tmp_path,
        {
            "hub/store/a.py": "from hub.store.b import B\n",
            "hub/store/b.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from hub.store.a import A\n",
            "hub/store/c.py": "from hub.store.a import A\n",
        },
    )
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", root)
    assert import_cycles(root) == [["hub/store/a.py", "hub/store/b.py"]]
