"""doctor on publish's own staged output of the examples: no error (issue 6, "done when")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hf_custom.diagnosis import doctor
from hf_custom.findings import Severity

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.slow
@pytest.mark.parametrize("example", ["tinylm", "ltgbert"])
def test_staged_examples_have_no_error(example: str, tmp_path: Path) -> None:
    from hf_custom.publishing import stage

    ckpt = tmp_path / "checkpoint"
    script = str(EXAMPLES / example / "make_checkpoint.py")
    subprocess.run(
        [sys.executable, script, "--out", str(ckpt), "--steps", "4"],
        check=True,
        capture_output=True,
        timeout=600,
    )
    before = doctor(ckpt)  # the raw research checkpoint is not ready for the Hub
    assert not before.ok, "the example checkpoint should need publish's repairs"
    staged = stage(ckpt, out=tmp_path / "staged")
    report = doctor(staged.out)
    errors = [f for f in report.findings if f.severity is Severity.ERROR]
    assert not errors, errors
    assert "config.normalize" in report.run and "code.packaging" in report.run
    assert "weights.safetensors" in report.run
