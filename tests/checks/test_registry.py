"""The registry itself: selection, skipping, crashing checks, docs kept in sync."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import hf_custom.checks as registry
from hf_custom.checks import CRASH_RULE, Skip, all_checks, register, selected_rules
from hf_custom.checks.context import Context
from hf_custom.diagnosis import doctor
from hf_custom.errors import InputError
from hf_custom.findings import Finding, all_rules, finding

from .repo import write_repo

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def temp_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Checks registered by a test are removed after it."""
    all_checks()
    monkeypatch.setattr(registry, "_CHECKS", dict(registry._CHECKS))
    yield


def test_checks_declare_existing_rules() -> None:
    known = {r.id for r in all_rules()}
    for check in all_checks():
        assert check.rules, check.name
        assert set(check.rules) <= known, (check.name, set(check.rules) - known)
        assert check.summary, f"{check.name} has no docstring"


def test_crashing_check_is_a_finding(tmp_path: Path, temp_checks: None) -> None:
    @register("test.crash", rules=("HFC650",))
    def crash(ctx: Context) -> Iterator[Finding]:
        raise ZeroDivisionError("boom")
        yield  # pragma: no cover

    report = doctor(write_repo(tmp_path / "repo"), select=["HFC650"])
    crashed = [f for f in report.findings if f.id == CRASH_RULE]
    assert len(crashed) == 1
    assert "test.crash" in crashed[0].message and "ZeroDivisionError" in crashed[0].message
    assert not report.ok
    # the passing side: without the crashing check, the same run has no HFC699
    del registry._CHECKS["test.crash"]
    assert CRASH_RULE not in {f.id for f in doctor(tmp_path / "repo").findings}


def test_undeclared_rule_is_a_crash(tmp_path: Path, temp_checks: None) -> None:
    @register("test.undeclared", rules=("HFC650",))
    def undeclared(ctx: Context) -> Iterator[Finding]:
        yield finding("HFC651", "not mine to report")

    report = doctor(write_repo(tmp_path / "repo"), select=["HFC650"])
    assert [f.id for f in report.findings] == [CRASH_RULE]
    assert "HFC651" in report.findings[0].message


def test_skip_is_reported_as_skipped_not_run(tmp_path: Path, temp_checks: None) -> None:
    @register("test.skip", rules=("HFC650",))
    def skip(ctx: Context) -> Iterator[Finding]:
        raise Skip("cannot here", findings=[finding("HFC650", "partial")])
        yield  # pragma: no cover

    report = doctor(write_repo(tmp_path / "repo"), select=["HFC650"])
    assert "test.skip" not in report.run
    assert [s.check for s in report.skipped if s.check == "test.skip"] == ["test.skip"]
    assert "partial" in {f.message for f in report.findings}  # found before stopping: kept


def test_code_checks_skip_without_code_and_load_needs_flag(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "README.md").write_text("---\nlibrary_name: transformers\n---\n")
    report = doctor(root)
    skipped = {s.check: s.reason for s in report.skipped}
    assert "code.post-init" in skipped and "code.post-init" not in report.run
    assert "--load" in skipped["loading.verify"]
    assert any(f.id == "HFC100" for f in report.findings)  # no config.json is an error
    assert not report.ok


def test_select_and_ignore_by_id_prefix_name_area() -> None:
    assert selected_rules(["HFC650"]) == {"HFC650"}
    assert selected_rules(["dangerous-call"]) == {"HFC256"}
    assert {r[:4] for r in selected_rules(["HFC2"])} == {"HFC2"}
    assert selected_rules(["weights"]) == {r.id for r in all_rules() if r.area == "weights"}
    assert "HFC256" not in selected_rules(ignore=["HFC25"])
    assert "HFC250" not in selected_rules(["code"], ["HFC250"])
    with pytest.raises(InputError):
        selected_rules(["HFC9"])
    with pytest.raises(InputError):
        selected_rules(ignore=["no-such-rule"])


def test_ignored_findings_are_dropped(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", {"notes.txt": "x", "optimizer.pt": b"\x80\x02}q\x00."})
    ids = {f.id for f in doctor(repo).findings}
    assert {"HFC600", "HFC607"} <= ids
    ids = {f.id for f in doctor(repo, ignore=["training-artefact"]).findings}
    assert "HFC600" not in ids and "HFC607" in ids


def test_docs_are_in_sync() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hf_custom.checks.docs"], capture_output=True, text=True, check=True
    )
    current = (ROOT / "docs" / "checks.md").read_text()
    assert proc.stdout == current, (
        "docs/checks.md is stale: run `python -m hf_custom.checks.docs > docs/checks.md`"
    )
    for rule in all_rules():
        assert f"### {rule.id} {rule.name}" in current


def test_dangerous_calls_need_the_module_imported(tmp_path: Path) -> None:
    from .repo import MODELING

    code = MODELING.replace(
        "import torch\n",
        "import torch\nimport subprocess as sp\n"
        "def f():\n    requests = []\n    requests.append(1)\n    sp.run(['ls'])\n"
        "    from urllib import request\n    eval('1')\n",
    )
    repo = write_repo(tmp_path / "m", {"modeling_toy.py": code})
    found = [f for f in doctor(repo, select=["HFC256"]).findings]
    assert sorted(f.message.split("(")[0] for f in found) == ["eval", "subprocess.run"]
    assert all(f.path == "modeling_toy.py" and f.line > 0 for f in found)


def test_config_reads_in_a_single_file_model(tmp_path: Path) -> None:
    """Config and model classes in one module: the model's reads are checked, the config's not."""
    from .repo import CONFIGURATION, MODELING

    single = (
        CONFIGURATION
        + "\n"
        + MODELING.replace("from .configuration_toy import ToyConfig\n", "").replace(
            "import torch\n", "import torch\n", 1
        )
    )
    single = single.replace(
        "        self.tie_word_embeddings = tie_word_embeddings\n",
        "        self.tie_word_embeddings = tie_word_embeddings\n        x = self.own_thing\n",
    ).replace(
        "        hidden = self.model(input_ids)",
        "        flag = self.config.hfc_nowhere\n        hidden = self.model(input_ids)",
    )
    amap = {"AutoConfig": "modeling_toy.ToyConfig", "AutoModel": "modeling_toy.ToyModel"}
    from .repo import config_with

    repo = write_repo(
        tmp_path / "m",
        {
            "configuration_toy.py": None,
            "modeling_toy.py": single,
            "config.json": config_with(auto_map=amap),
        },
    )
    found = doctor(repo, select=["HFC255"]).findings
    assert [f.message.split(",")[0] for f in found] == ["reads config.hfc_nowhere"]


def test_lfs_pointer_instead_of_weights(tmp_path: Path) -> None:
    pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64 + "\nsize 600\n"
    repo = write_repo(tmp_path / "m", {"model.safetensors": pointer})
    [f] = doctor(repo, select=["HFC355"]).findings
    assert "git-lfs pointer" in f.message and "git lfs pull" in f.fix
