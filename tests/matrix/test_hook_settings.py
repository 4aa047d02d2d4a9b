"""The git hooks read the repository's settings: select/ignore, and the default matrix against
the model card's Compatibility section (HFC750). Real git repositories, the installed hook."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from checks.repo import CARD, write_repo

from hf_custom import hooks
from hf_custom.compatibility import Compatibility, VersionResult, render_section, with_section
from hf_custom.diagnosis import doctor


@pytest.fixture(autouse=True)
def _git_env(git_identity: None) -> None:
    """Every test here runs git: the shared isolated git config and identity."""


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)


def _card(*versions: tuple[str, bool]) -> str:
    compat = Compatibility(
        "2026-12-01", "0.2.0", tuple(VersionResult(v, ok=ok) for v, ok in versions)
    )
    return with_section(CARD, render_section(compat))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = write_repo(tmp_path / "model")
    assert git(repo, "init", "-q").returncode == 0
    assert git(repo, "add", "-A").returncode == 0
    assert git(repo, "commit", "-qm", "model").returncode == 0
    hooks.install(repo, hook_type="pre-commit")
    return repo


def test_hook_takes_select_and_ignore_from_the_settings(repo: Path) -> None:
    (repo / ".env").write_text("API_KEY=x\n")
    git(repo, "add", ".env")
    blocked = git(repo, "commit", "-m", "env")
    assert blocked.returncode != 0 and "HFC601" in blocked.stderr

    (repo / "hf-custom.toml").write_text('ignore = ["HFC601"]\n')
    allowed = git(repo, "commit", "-m", "env")
    assert allowed.returncode == 0, allowed.stderr
    assert "HFC601" not in allowed.stderr

    # pyproject.toml's [tool.hf-custom] works the same, select as well as ignore
    (repo / "hf-custom.toml").unlink()
    (repo / "pyproject.toml").write_text('[tool.hf-custom]\nselect = "HFC1, HFC2"\n')
    (repo / "notes.md").write_text("API_KEY=x\n")
    git(repo, "add", "notes.md")
    assert git(repo, "commit", "-m", "notes").returncode == 0

    # the command line wins over the settings
    run = hooks.run(repo, hook_type="pre-commit", select=["HFC6"])
    assert not run.ok and "HFC601" in {f.id for _, r in run.reports for f in r.findings}


def test_hook_compares_the_default_matrix_with_the_card(repo: Path) -> None:
    (repo / "hf-custom.toml").write_text('transformers = ["4.57", "latest"]\nallow-fail = ["5"]\n')
    git(repo, "add", "hf-custom.toml")
    proc = git(repo, "commit", "-m", "matrix")
    assert proc.returncode == 0, proc.stderr  # a warning: the commit goes on, and says why
    assert "HFC750" in proc.stderr and "4.57" in proc.stderr

    def found(card: str) -> list[str]:
        (repo / "README.md").write_text(card)
        git(repo, "add", "README.md")
        run = hooks.run(repo, hook_type="pre-commit")
        return [f.message for _, r in run.reports for f in r.findings if f.id == "HFC750"]

    assert found(_card(("4.57.6", True), ("5.24.0", True))) == []
    missing = found(_card(("5.24.0", True)))
    assert len(missing) == 1 and "transformers 4.57;" in missing[0] and "not verified" in missing[0]
    failing = found(_card(("4.57.6", False), ("5.24.0", True)))
    assert len(failing) == 1 and "failing with 4.57.6" in failing[0]
    # a failing version the settings accept (allow-fail 5 covers 5.x) is not reported
    assert found(_card(("4.57.6", True), ("5.24.0", False))) == []
    # the working tree's card does not matter: the hook checks what is committed
    (repo / "README.md").write_text(CARD)
    assert "HFC750" in {f.id for f in doctor(repo).findings}  # the folder: the new card
    run = hooks.run(repo, hook_type="pre-commit")  # the index: the card staged last
    assert "HFC750" not in {f.id for _, r in run.reports for f in r.findings}


def test_bad_settings_file_is_a_skipped_check_not_a_crash(repo: Path) -> None:
    (repo / "hf-custom.toml").write_text("transformers = [\n")
    git(repo, "add", "hf-custom.toml")
    from hf_custom.checks.gitview import GitTreeView
    from hf_custom.diagnosis import diagnose_view

    report = diagnose_view(GitTreeView(repo, None), kind="git", installed_transformers=False)
    skipped = {s.check: s.reason for s in report.skipped}
    assert "not valid TOML" in skipped["matrix.card"]
    assert "HFC699" not in {f.id for f in report.findings}
