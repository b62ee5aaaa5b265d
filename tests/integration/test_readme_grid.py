"""The README's "What the figures can and cannot tell you", command by command, on a small demo
place: the published rules print, each grid period is answered, and a span off the grid is
refused with exit code 2, as the comments beside the commands say."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import orjson

from hub.bootstrap import open_hub
from hub.demo.run import quiet, run_demo
from hub.settings import Settings

ROOT = Path(__file__).parents[2]
SECTION = "## What the figures can and cannot tell you"


def walkthrough() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "the section has a sh block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_the_readme_grid_walkthrough_runs_as_written(tmp_path: Path) -> None:
    data = tmp_path / "hub-data"
    with open_hub(Settings(data_dir=data)) as hub:
        run_demo(hub, tmp_path / "demo-agencies", people=400, seed=5, stage=quiet)
    env = {**os.environ, "HUB_DATA_DIR": str(data), "COLUMNS": "200", "PYTHONPATH": str(ROOT)}
    env.pop("HUB_STORE", None)
    lines = walkthrough()
    assert any("--period" in line for line in lines)
    outputs = []
    for line in lines:
        command, _, comment = line.partition("  #")
        words = shlex.split(command)
        assert words[0] == ".venv/bin/hub", line
        result = subprocess.run(
            [sys.executable, "-m", "hub.cli", *words[1:]],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=300,
        )
        expected = 2 if "exit 2" in comment else 0
        assert result.returncode == expected, (line, result.stdout[-2000:], result.stderr[-2000:])
        if expected == 2:
            assert "period of the grid" in " ".join(result.stderr.split())
            assert "Traceback" not in result.stderr
        outputs.append(result.stdout)
    rules = orjson.loads(next(out for out in outputs if out.lstrip().startswith("{")))
    assert rules["max_error"] == rules["max_noise"] + rules["rounding_base"] // 2
    quarter = next(out for line, out in zip(lines, outputs, strict=True) if "2025-Q1" in line)
    assert "2025-Q1 (2025-01 to 2025-03)" in " ".join(quarter.split())
