"""The output layer's streams and formats: findings on stdout for every command, never
hard-wrapped off a terminal, ``--format agent`` as ``hf`` prints for agents (TSV tables with a
header, results as one key=value line), and one key for a finding's rule in JSON."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from hf_custom.cli.main import main
from hf_custom.cli.output import AGENT_FINDING_COLUMNS


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny checkpoint with a built-in model type: HFC103, an error with a long message."""
    from tiny_checkpoint import make_checkpoint

    root = tmp_path_factory.mktemp("streams") / "ckpt"
    return make_checkpoint(root, config={"model_type": "llama", "vocab_size": 12})


@pytest.fixture
def folder(tmp_path: Path, pristine: Path) -> Path:
    dest = tmp_path / "ckpt"
    shutil.copytree(pristine, dest)
    return dest


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _json_findings(doc: object) -> list[dict[str, object]]:
    """Every finding object anywhere in a JSON document (a dict with severity and message)."""
    found: list[dict[str, object]] = []
    if isinstance(doc, dict):
        if "severity" in doc and "message" in doc:
            found.append(doc)
        for value in doc.values():
            found += _json_findings(value)
    elif isinstance(doc, list):
        for value in doc:
            found += _json_findings(value)
    return found


@pytest.mark.parametrize("command", ["doctor", "publish"])
def test_findings_go_to_stdout_for_every_command(
    command: str, folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = ["--dry-run", "--out", str(tmp_path / "out")] if command == "publish" else []
    code, out, err = _run(capsys, command, str(folder), *extra, "--format", "human")
    assert code == 1
    assert "HFC103" in out and "HFC103" not in err


@pytest.mark.parametrize("fmt", ["human", "agent"])
def test_a_long_finding_stays_on_one_line_off_a_terminal(
    fmt: str, folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, doc_text, _ = _run(capsys, "doctor", str(folder), "--format", "json")
    messages = [f["message"] for f in json.loads(doc_text)["findings"] if f["id"] == "HFC103"]
    assert messages and len(str(messages[0])) > 80  # long enough to have been wrapped before
    _, out, _ = _run(capsys, "doctor", str(folder), "--format", fmt)
    lines = [line for line in out.splitlines() if "HFC103" in line]
    assert len(lines) == 1 and str(messages[0]) in lines[0], out


def test_agent_format_is_a_tsv_table_and_a_key_value_result(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, doc_text, _ = _run(capsys, "doctor", str(folder), "--format", "json")
    doc = json.loads(doc_text)
    code, out, err = _run(capsys, "doctor", str(folder), "--format", "agent")
    assert code == 1 and "\x1b[" not in out  # no colour
    lines = out.splitlines()
    assert lines[0] == "\t".join(AGENT_FINDING_COLUMNS)
    assert len(lines) == 1 + len(doc["findings"]) + 1  # the table, then the result line only
    assert doc["checks"]["skipped"] and "skipped " in err  # skipped checks: said, on stderr
    rows = [line.split("\t") for line in lines[1 : 1 + len(doc["findings"])]]
    assert all(len(r) == len(AGENT_FINDING_COLUMNS) for r in rows)
    assert [r[1] for r in rows] == [f["id"] for f in doc["findings"]]  # same order as JSON
    result = dict(pair.split("=", 1) for pair in lines[-1].split(" "))
    errors = sum(f["severity"] == "error" for f in doc["findings"])
    assert result["ok"] == "false" and result["errors"] == str(errors)
    assert result["target"] == doc["target"]


def test_agent_format_publish_result_line(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(
        capsys, "publish", str(folder), "--dry-run", "--out", str(tmp_path / "o"),
        "--format", "agent",
    )  # fmt: skip
    assert code == 1
    assert out.splitlines()[0] == "\t".join(AGENT_FINDING_COLUMNS)
    assert "error:" in err and "\x1b[" not in out + err


@pytest.mark.parametrize("command", ["doctor", "publish"])
def test_every_json_finding_names_its_rule_under_id(
    command: str, folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = ["--dry-run", "--out", str(tmp_path / "out")] if command == "publish" else []
    _, out, _ = _run(capsys, command, str(folder), *extra, "--format", "json")
    found = _json_findings(json.loads(out))
    assert found
    for f in found:
        assert re.fullmatch(r"HFC\d{3}", str(f["id"])), f
        assert set(f) == {"id", "name", "severity", "message", "path", "line", "fix"}, f
