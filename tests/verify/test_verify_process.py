"""The child process: isolation, timeouts, crashes, other interpreters, report assembly."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from verify_factory import make_model_dir

from hf_custom.cli.verify_view import timing_note
from hf_custom.errors import InputError
from hf_custom.events import Event, Log, Progress
from hf_custom.verification import _rows, expected_state_keys, shared_child, verify
from hf_custom.verification.isolation import ChildRun, child_env


def test_child_env_is_fresh_and_leak_free(tmp_path: Path) -> None:
    base = {
        "PATH": "/usr/bin",
        "PYTHONPATH": "/home/me/src",
        "HF_TOKEN": "hf_secret",
        "HF_HOME": "/home/me/.cache/huggingface",
        "HF_MODULES_CACHE": "/home/me/.cache/huggingface/modules",
        "HF_HUB_OFFLINE": "0",
    }
    env = child_env(tmp_path, base)
    assert "PYTHONPATH" not in env and "HF_TOKEN" not in env
    assert env["HF_HOME"].startswith(str(tmp_path))
    assert env["HF_MODULES_CACHE"].startswith(str(tmp_path))
    assert env["HF_HUB_OFFLINE"] == "1"
    assert env["PATH"] == "/usr/bin"


def test_not_a_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        verify(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"config\.json"):
        verify(tmp_path / "empty")


def test_unknown_interpreter_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(InputError, match="cannot run the interpreter"):
        verify(tmp_path, python=str(tmp_path / "no-such-python"))


def test_interpreter_without_torch_is_a_finding(tmp_path: Path) -> None:
    # -S hides site-packages: an environment without torch, transformers (and hf_custom). The
    # child still starts, which shows it needs nothing of hf_custom.
    wrapper = tmp_path / "python-bare"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    wrapper.chmod(0o755)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text('{"auto_map": {"AutoModel": "m.M"}}')
    report = verify(tmp_path / "m", python=str(wrapper), timeout=60)
    assert not report.ok
    assert [f.id for f in report.findings] == ["HFC528"]
    assert "torch" in report.findings[0].message
    # every planned AutoClass still has a row, and none of them passed
    assert [r.auto_class for r in report.rows] == ["AutoConfig", "AutoModel"]
    assert all(r.loaded == "skipped" for r in report.rows)


def test_timeout_kills_the_child_and_is_a_finding(tmp_path: Path) -> None:
    staged = make_model_dir(tmp_path, defects={"hang"}, tokenizer=False)
    events: list[Event] = []
    start = time.perf_counter()
    report = verify(staged, timeout=3, on_event=events.append)
    assert time.perf_counter() - start < 30
    assert not report.ok
    assert "HFC522" in {f.id for f in report.findings}
    assert report.rows and all(r.loaded in ("skipped", "failed") for r in report.rows)
    assert not any(r.ok and r.loaded == "passed" for r in report.rows)


@pytest.mark.slow
def test_crash_is_a_finding_not_a_hang(tmp_path: Path) -> None:
    # no_architectures rides along: HFC532 is reported after AutoConfig, before the crash
    staged = make_model_dir(tmp_path, defects={"crash", "no_architectures"}, tokenizer=False)
    events: list[Event] = []
    report = verify(staged, timeout=300, on_event=events.append)
    assert "HFC532" in {f.id for f in report.findings}
    crash = [f for f in report.findings if f.id == "HFC527"]
    assert crash and "SIGSEGV" in crash[0].message and "load AutoModel" in crash[0].message
    rows = {r.auto_class: r for r in report.rows}
    assert rows["AutoConfig"].loaded == "passed"  # learnt before the crash: kept
    assert rows["AutoModel"].loaded == "failed"
    # each AutoClass runs in its own fork: a crash in one does not hide the others
    assert rows["AutoModelForCausalLM"].loaded == "failed"
    assert "SIGSEGV during load" in rows["AutoModelForCausalLM"].detail
    assert len(crash) == len([r for r in report.rows if r.auto_class.startswith("AutoModel")])
    assert not report.ok
    assert any(isinstance(e, Log) and "AutoModel load" in e.message for e in events)
    assert any(isinstance(e, Progress) for e in events)


def test_rows_for_steps_the_child_never_finished() -> None:
    run = ChildRun(
        records=(
            {"type": "plan", "auto_classes": ["AutoConfig", "AutoModel", "AutoTokenizer"]},
            {
                "type": "row",
                "auto_class": "AutoConfig",
                "class_name": "C",
                "loaded": "passed",
                "weights_equal": "n/a",
                "forward": "n/a",
                "generate": "n/a",
                "save": "n/a",
                "seconds": 0.1,
            },
            {"type": "step", "auto_class": "AutoModel", "step": "forward"},
        ),
        returncode=-9,
        timed_out=True,
        seconds=5.0,
        last_step={"type": "step", "auto_class": "AutoModel", "step": "forward"},
    )
    rows = {r.auto_class: r for r in _rows(run)}
    assert rows["AutoConfig"].ok
    model = rows["AutoModel"]
    assert (model.loaded, model.forward, model.weights_equal) == ("passed", "failed", "skipped")
    assert "timed out during forward" in model.detail
    assert rows["AutoTokenizer"].loaded == "skipped" and rows["AutoTokenizer"].ok is not False


def test_library_never_prints(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "config.json").write_text("{}")
    wrapper = tmp_path / "python-bare"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    wrapper.chmod(0o755)
    verify(tmp_path, python=str(wrapper), timeout=60)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert os.environ.get("HF_HUB_OFFLINE") == "1"


@pytest.mark.slow
def test_warm_child_serves_inspection_and_verification(tmp_path: Path) -> None:
    staged = make_model_dir(tmp_path / "m", defects={"hang"}, tokenizer=False)
    sound = make_model_dir(tmp_path / "sound", tokenizer=False)
    with shared_child() as pool:
        keys = expected_state_keys(sound, ["TinyForCausalLM"], timeout=300)
        report = verify(sound, timeout=300)
        # one interpreter for both: each request in its own fork with a fresh modules cache
        assert pool.started == 1
        assert report.environment["warm"] is True and report.ok, report.findings
        # the footer never reads "imports took 3.9 s of 0.4 s": a warm child imported earlier
        note = timing_note(report)
        assert note.startswith(f"verified in {report.seconds:.1f} s by a warm child"), note
        assert "once, before this run" in note
        assert keys["TinyForCausalLM"].ok and "lm_head.weight" in keys["TinyForCausalLM"].keys
        # another folder: another child (the sandbox of the first cannot see it)
        hung = verify(staged, timeout=3)
        assert pool.started == 2
        assert "HFC522" in {f.id for f in hung.findings} and not hung.ok
        # a request that timed out killed its child: the next one starts a new one
        again = verify(sound, timeout=300)
        assert pool.started == 3 and again.ok
    assert pool.child is None  # closed with the block
