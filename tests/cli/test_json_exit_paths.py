"""One output layer: under --format json every exit path prints exactly one JSON document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hf_custom.cli.main import main


def _one_doc(out: str) -> dict[str, object]:
    doc = json.loads(out)  # raises when there are two documents or none
    assert isinstance(doc, dict)
    assert doc["schema_version"] == 1 and "version" not in doc
    return doc


def test_input_error_prints_one_json_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "config.json").write_text("{not json", encoding="utf-8")
    code = main(
        ["publish", str(ckpt), "--dry-run", "--out", str(tmp_path / "o"), "--format", "json"]
    )
    assert code == 2
    doc = _one_doc(capsys.readouterr().out)
    assert doc["ok"] is False
    error = doc["error"]
    assert isinstance(error, dict) and error["kind"] == "InputError" and error["exit_code"] == 2
    assert [f["id"] for f in doc["findings"]] == ["HFC100"]  # type: ignore[index, union-attr]


def test_usage_error_prints_one_json_document(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--format", "json", "--no-such-option"]) == 2
    doc = _one_doc(capsys.readouterr().out)
    assert doc["error"]["kind"] == "usage"  # type: ignore[index]


def test_quiet_prints_no_diagnostics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    assert main(["publish", str(ckpt), "--dry-run", "--format", "quiet"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "config.json" in captured.err  # the error itself is still said
    assert "HFC100" not in captured.err  # but not the findings


def test_human_is_not_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    assert main(["publish", str(ckpt), "--dry-run", "--format", "human"]) == 2
    captured = capsys.readouterr()
    assert "error:" in captured.err and "error:" not in captured.out
    assert "HFC100" in captured.out and not captured.out.lstrip().startswith("{")  # findings
