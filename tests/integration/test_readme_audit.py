"""The README's "Auditing" walk-through, command by command, on a small demo place: what an
auditor following it runs must work as it says (exit 0, and the JSON it promises)."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from hub.bootstrap import open_hub
from hub.demo.run import quiet, run_demo
from hub.settings import Settings

ROOT = Path(__file__).parents[2]


def walkthrough() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Auditing", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "the Auditing section has a sh block"
    text = re.sub(r"\\\n\s*", "", block.group(1))  # continued lines joined
    return [line for line in text.splitlines() if line.strip()]


def test_the_readme_audit_walkthrough_runs_as_written(tmp_path: Path) -> None:
    data = tmp_path / "hub-data"
    with open_hub(Settings(data_dir=data)) as hub:
        run_demo(hub, tmp_path / "demo-agencies", people=1000, seed=4, stage=quiet)
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "HUB_DATA_DIR": str(data), "COLUMNS": "200"}
    env["PYTHONPATH"] = str(ROOT)  # the code under test, wherever the package is installed from
    env.pop("HUB_STORE", None)
    outputs: dict[str, str] = {}
    for line in walkthrough():
        command = line.split("  #", 1)[0].strip()
        command = command.replace("hub-data/", f"{data}/").replace("~/", f"{home}/")
        if "RECORDREF" in command:  # a record of the agency's, from the events it sent
            sent = (tmp_path / "police-north.jsonl").read_text(encoding="utf-8").splitlines()
            command = command.replace("RECORDREF", orjson.loads(sent[0])["recordref"])
        words = shlex.split(command)
        redirect = None
        if ">" in words:
            at = words.index(">")
            redirect, words = Path(words[at + 1]), words[:at]
        if words[0] == "cp":
            subprocess.run(words, check=True)
            continue
        assert words[0] == ".venv/bin/hub", line
        result = subprocess.run(
            [sys.executable, "-m", "hub.cli", *words[1:]],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=300,
        )
        assert result.returncode == 0, (line, result.stdout[-2000:], result.stderr[-2000:])
        if redirect is not None:
            (tmp_path / redirect).write_text(result.stdout, encoding="utf-8")
        outputs[words[2] if words[1] == "audit" else words[1]] = result.stdout
    assert "verified" in outputs["verify"]  # the last verify: after the erasure
    proof = orjson.loads(outputs["prove"])
    assert set(proof) == {"leafIdx", "treeSize", "root", "leafHash", "proof"}
    assert set(orjson.loads(outputs["consistency"])) == {
        "size1",
        "size2",
        "root1",
        "root2",
        "proof",
    }
    traced = orjson.loads(outputs["trace"])
    assert traced["events"]
    assert sum(traced["figures"].values()) == len(traced["events"])
    assert outputs["erase"]


@pytest.mark.parametrize("line", walkthrough())
def test_every_walkthrough_line_names_a_real_command(line: str) -> None:
    assert line.startswith((".venv/bin/hub ", "cp ")), line
