"""``hf-custom fix SRC``: diff and repair lines, a copy written, SRC never modified, exit codes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from hf_custom.cli.main import main
from tests.checks.repo import CONFIGURATION, write_repo

from .toy import BROKEN

# the toy config with a layer count, as generate() needs it
CONFIGURATION_LAYERS = CONFIGURATION.replace(
    "tie_word_embeddings=True, **kwargs):",
    "tie_word_embeddings=True, num_hidden_layers=1, **kwargs):\n"
    "        self.num_hidden_layers = num_hidden_layers",
)


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    return write_repo(
        tmp_path / "src",
        {"modeling_toy.py": BROKEN, "configuration_toy.py": CONFIGURATION_LAYERS},
    )


def test_diff_prints_and_writes_nothing(
    broken: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _digest(broken)
    code = main(["fix", str(broken), "--diff", "--no-verify"])
    out = capsys.readouterr().out
    assert code == 1  # not verified: never reported as a success
    assert "--- a/modeling_toy.py" in out and "+        self.post_init()" in out
    assert "HFC253 modeling_toy.py:25 ToyForCausalLM._tied_weights_keys" in out
    assert "+++ b/hf_custom_compat.py (new file" in out
    assert "6 repair(s), 0 left; not verified" in out
    assert _digest(broken) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


def test_out_is_a_repaired_copy_and_json_lists_repairs(
    broken: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _digest(broken)
    out = tmp_path / "fixed"
    code = main(["fix", str(broken), "--out", str(out), "--no-verify", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    assert _digest(broken) == before
    assert sorted(r["rule"] for r in doc["repairs"]) == sorted(
        ["HFC204", "HFC250", "HFC252", "HFC252", "HFC253", "HFC254"]
    )
    assert doc["unrepaired"] == [] and doc["remaining"] == []
    assert doc["verification"]["ran"] is False
    assert {f["path"] for f in doc["files"]} == {"modeling_toy.py", "hf_custom_compat.py"}
    assert set(_digest(out)) == set(before) | {"hf_custom_compat.py"}
    assert "self.post_init()" in (out / "modeling_toy.py").read_text()
    assert (out / "config.json").read_bytes() == (broken / "config.json").read_bytes()
    # fix on its own output changes nothing
    assert main(["fix", str(out), "--diff", "--no-verify", "--format", "json"]) == 1
    again = json.loads(capsys.readouterr().out)
    assert again["repairs"] == [] and again["files"] == []


def test_select_limits_the_repairs(broken: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["fix", str(broken), "--diff", "--no-verify", "--select", "HFC252", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert {r["rule"] for r in doc["repairs"]} == {"HFC252"}
    main(
        [
            "fix",
            str(broken),
            "--diff",
            "--no-verify",
            "--ignore",
            "HFC252,HFC250",
            "--format",
            "json",
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    assert {r["rule"] for r in doc["repairs"]} == {"HFC204", "HFC253", "HFC254"}


@pytest.mark.parametrize(
    "args",
    [
        ["fix", "{tmp}/missing", "--diff"],
        ["fix", "{src}", "--out", "{src}/inside"],
        ["fix", "{src}"],
        ["fix", "{src}", "--diff", "--select", "HFC9999"],
    ],
)
def test_input_errors_exit_2(broken: Path, tmp_path: Path, args: list[str]) -> None:
    argv = [a.format(tmp=tmp_path, src=broken) for a in args]
    assert main(argv) == 2
    assert not (broken / "inside").exists()


def test_non_empty_out_needs_force(broken: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    assert main(["fix", str(broken), "--out", str(out), "--no-verify"]) == 2
    assert (out / "keep.txt").exists()
    assert main(["fix", str(broken), "--out", str(out), "--no-verify", "--force"]) == 1
    assert not (out / "keep.txt").exists() and (out / "hf_custom_compat.py").exists()


@pytest.mark.slow
def test_repaired_copy_verifies_exit_0(
    broken: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["fix", str(broken), "--out", str(tmp_path / "fixed"), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["verification"]["ok"] is True, doc["verification"]
    assert code == 0 and doc["ok"] is True
