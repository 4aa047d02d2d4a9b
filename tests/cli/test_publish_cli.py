"""hf-custom publish through the real entry point (hf_custom.cli.main.main)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tiny_checkpoint import TOKEN, digest, make_checkpoint

from hf_custom.cli.main import main


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("pristine") / "ckpt")


@pytest.fixture
def ckpt(tmp_path: Path, pristine: Path) -> Path:
    dest = tmp_path / "ckpt"
    shutil.copytree(pristine, dest)
    return dest


def test_help_lists_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["publish", "--help"]) == 0
    out = capsys.readouterr().out
    for opt in ("--repo-id", "--dry-run", "--out", "--no-verify", "--auto-class", "--create-pr"):
        assert opt in out


def test_malformed_config_exit_2(
    ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (ckpt / "config.json").write_text("{ not json")
    out = tmp_path / "out"
    code = main(["publish", str(ckpt), "--dry-run", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert "config.json" in err and "hint:" in err
    assert not out.exists()


def test_builtin_model_type_exit_1(
    ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (ckpt / "config.json").write_text(json.dumps({"model_type": "llama"}))
    code = main(["publish", str(ckpt), "--dry-run", "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 1
    assert "HFC103" in captured.out and "--model-type" in captured.out  # findings: stdout
    assert "HFC103" not in captured.err and "error:" in captured.err  # the error: stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([], "--repo-id"),
        (["--dry-run", "--auto-class", "NoEquals"], "Class=AutoClass"),
        (["--dry-run", "--max-shard-size", "lots"], "size"),
        (["--dry-run", "--rename", "no-equals-sign"], "rename"),
    ],
)
def test_usage_errors_exit_2(
    ckpt: Path, args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["publish", str(ckpt), *args]) == 2
    assert needle.lower() in capsys.readouterr().err.lower()


def test_missing_folder_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["publish", str(tmp_path / "nope"), "--dry-run"]) == 2


@pytest.mark.slow
def test_dry_run_json(ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = digest(ckpt)
    out = tmp_path / "out"
    code = main(
        ["publish", str(ckpt), "--dry-run", "--no-verify", "--out", str(out), "--format", "json"]
    )
    captured = capsys.readouterr()
    doc = json.loads(captured.out)  # exactly one JSON document
    assert code == 0, doc["findings"]
    assert doc["ok"] and doc["dry_run"] and doc["verification"] == {"skipped": True}
    assert doc["staged_folder"] == str(out.resolve())
    assert any(c["key"] == "auto_map.AutoModelForMaskedLM" for c in doc["stage"]["changes"])
    assert {e["path"] for e in doc["stage"]["excluded"]} >= {"optimizer.pt", ".git/", "notes.txt"}
    assert TOKEN not in captured.out + captured.err
    assert (out / "model.safetensors").is_file()
    assert digest(ckpt) == before


@pytest.mark.slow
def test_dry_run_human(ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["publish", str(ckpt), "--dry-run", "--no-verify", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0
    assert f"staged: {out.resolve()}" in captured.out
    assert "verification SKIPPED" in captured.err
    assert "auto_map.AutoModel" in captured.err  # the changes are shown
    assert "optimizer.pt" in captured.err  # and the exclusions


def test_refusal_json_document(
    ckpt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (ckpt / "config.json").write_text(json.dumps({"model_type": "llama"}))
    code = main(
        ["publish", str(ckpt), "--dry-run", "--out", str(tmp_path / "out"), "--format", "json"]
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    assert doc["ok"] is False and doc["refused"]
    assert "HFC103" in {f["id"] for f in doc["findings"]}


@pytest.mark.slow
def test_publish_to_the_embedded_hub_prints_one_url_line(
    ckpt: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    from hf_custom.remote import local_hub_dir

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # the suite runs offline

    args = ["publish", str(ckpt), "--repo-id", "demo/tiny", "--endpoint", "local", "--no-verify"]
    assert main(args) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()  # the findings, then the result line last
    assert lines[-1].startswith("committed: http://127.0.0.1:"), lines
    assert lines[-1].endswith(tuple("0123456789abcdef"))  # the whole commit URL, unwrapped
    assert "HFC529" in captured.out and "HFC529" not in captured.err  # findings: stdout
    assert "hf-custom hub serve" in captured.err
    assert "committed:" not in captured.err
    assert local_hub_dir().is_dir()
    assert main(args) == 0  # the same checkpoint again: no new commit
    assert capsys.readouterr().out.splitlines()[-1].startswith("no changes: ")
