"""Attack 16.9: file names that forge report lines (a newline) or hide their real end (U+202E)
are printed escaped, on every human output path: findings, exclusions, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hf_custom.textsafety import printable

FORGED = "notes\nHFC000 ok: all checks passed.txt"
BIDI = "report\u202etxt.py"  # shows as "reportyp.txt"


def test_printable_escapes_controls_and_bidi() -> None:
    assert printable("config.json") == "config.json"
    assert printable("é ü 模型.txt") == "é ü 模型.txt"
    assert printable(FORGED) == "notes\\nHFC000 ok: all checks passed.txt"
    assert printable(BIDI) == "report\\u202etxt.py"
    assert printable("a\x1b[31mred") == "a\\x1b[31mred"
    assert printable("tab\there\\n") == "tab\\there\\\\n"  # a real backslash stays distinct


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    src = tmp_path / "ckpt"
    src.mkdir()
    (src / "config.json").write_text(json.dumps({"model_type": "toy"}))
    (src / FORGED).write_text("x")
    (src / BIDI).write_text("x = 1\n")
    return src


def _assert_clean(text: str) -> None:
    assert "\u202e" not in text
    assert not any(line.startswith("HFC000") for line in text.splitlines())


def test_doctor_human_output_escapes_names(hostile: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hf_custom", "doctor", str(hostile)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    _assert_clean(done.stdout + done.stderr)
    assert "notes\\nHFC000" in done.stdout + done.stderr


def test_error_messages_escape_paths(tmp_path: Path) -> None:
    src = tmp_path / "bad\u202edir\nHFC000 ok"
    src.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "hf_custom", "publish", str(src), "--dry-run"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    _assert_clean(done.stderr)
