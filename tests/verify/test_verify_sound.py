"""A sound tiny package verifies cleanly through every AutoClass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hf_custom.findings import Severity
from hf_custom.verification import VerifyReport

pytestmark = pytest.mark.slow


def test_every_auto_class_gets_a_row(sound_report: VerifyReport, sound_dir: Path) -> None:
    auto_map = json.loads((sound_dir / "config.json").read_text())["auto_map"]
    rows = {r.auto_class: r for r in sound_report.rows}
    assert set(rows) == set(auto_map) | {"AutoTokenizer"}
    assert rows["AutoConfig"].class_name == "TinyConfig"
    assert rows["AutoTokenizer"].loaded == "passed"


def test_sound_package_passes(sound_report: VerifyReport) -> None:
    errors = [f for f in sound_report.findings if f.severity is not Severity.INFO]
    assert errors == []
    assert sound_report.ok
    for row in sound_report.rows:
        assert row.ok, row
        assert row.loaded == "passed", row
        assert "skipped" not in (row.weights_equal, row.forward, row.generate, row.save), row


def test_architecture_class_gets_every_check(sound_report: VerifyReport) -> None:
    row = next(r for r in sound_report.rows if r.auto_class == "AutoModelForCausalLM")
    assert row.class_name == "TinyForCausalLM"
    assert (row.loaded, row.weights_equal, row.forward, row.generate, row.save) == (
        "passed",
        "passed",
        "passed",
        "passed",
        "passed",
    )
    # lm_head is a declared tie: every tensor, tie included, equals the file's
    assert "7 tensors equal" in row.detail


def test_fresh_heads_are_information_not_errors(sound_report: VerifyReport) -> None:
    infos = [f for f in sound_report.findings if f.id == "HFC510"]
    assert {f.severity for f in infos} == {Severity.INFO}
    assert any("score.weight" in f.message for f in infos)
    # the architectures class never gets HFC510: its weights must all come from the file
    assert not any("TinyForCausalLM" in f.message for f in infos)
    seq = next(r for r in sound_report.rows if r.auto_class == "AutoModelForSequenceClassification")
    assert seq.weights_equal == "passed" and "2 newly initialised" in seq.detail


def test_environment_and_timing_recorded(sound_report: VerifyReport) -> None:
    env = sound_report.environment
    assert env["transformers"].startswith("5.")
    assert float(env["import_seconds"]) > 0
    assert sound_report.seconds >= sum(r.seconds for r in sound_report.rows)
    # a one-off child: its imports are part of the run, and the footer says so truthfully
    assert env["warm"] is False and float(env["import_seconds"]) <= sound_report.seconds
    from hf_custom.cli.verify_view import timing_note

    note = timing_note(sound_report)
    assert note == (
        f"verified in {sound_report.seconds:.1f} s, of which imports took "
        f"{float(env['import_seconds']):.1f} s"
    )
    doc = sound_report.to_json()
    assert doc["ok"] is True and len(doc["rows"]) == len(sound_report.rows)
    json.dumps(doc)  # plain data
