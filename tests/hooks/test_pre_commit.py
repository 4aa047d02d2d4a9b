"""The hook through the real pre-commit framework (.pre-commit-hooks.yaml at the project root)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from checks.repo import write_repo

ROOT = Path(__file__).resolve().parents[2]


def test_hook_definition() -> None:
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "hf-custom-doctor" and hook["language"] == "python"
    assert hook["entry"].split()[0] == "hf-custom"
    assert hook["pass_filenames"] is False
    # its environment is `pip install .` of this project: the base dependencies, never torch
    tomllib = pytest.importorskip("tomllib")
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {d.split(">")[0].split("=")[0].split("[")[0].strip().lower() for d in deps}
    assert not names & {"torch", "transformers", "numpy", "tokenizers"}, names


@pytest.mark.slow
def test_pre_commit_try_repo_blocks_a_broken_repo(tmp_path: Path) -> None:
    pre_commit = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    repo = write_repo(tmp_path / "model", {"config.json": "{broken", "notes.txt": "x\n"})
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "model"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True)
    proc = subprocess.run(
        [pre_commit, "try-repo", str(ROOT), "hf-custom-doctor", "--ref", head, "--all-files"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "hf-custom doctor" in out and "Failed" in out
    assert "HFC100" in out and "commit blocked" in out
