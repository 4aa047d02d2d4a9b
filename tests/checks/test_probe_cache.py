"""The transformers probe cache: a warm static doctor imports neither transformers nor torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from checks.repo import write_repo
from hf_custom.checks import probe_cache, v5
from hf_custom.diagnosis import doctor

_CHILD = """
import sys
from hf_custom.diagnosis import doctor
report = doctor(sys.argv[1])
print(sorted(f.id for f in report.findings))
print(sorted(m for m in ("torch", "transformers") if m in sys.modules))
"""


def _fresh_probe() -> None:
    probe_cache.clear_memory()
    v5._name_missing.cache_clear()
    v5._installed_base_config_attrs.cache_clear()


def _child(repo: Path) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(repo)], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


def test_warm_doctor_imports_neither_transformers_nor_torch(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "m")
    _fresh_probe()
    cold = doctor(repo)  # learns what it needs and stores it under $HF_HOME/hf-custom
    path = probe_cache.cache_path()
    assert path is not None and path.parent == Path(os.environ["HF_HOME"]) / "hf-custom"
    assert "base-config-attrs" in json.loads(path.read_text())["entries"]
    findings, imported = _child(repo)
    assert imported == "[]"
    assert findings == repr(sorted(f.id for f in cold.findings))


def test_damaged_cache_is_ignored_and_rewritten(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "m")
    path = probe_cache.cache_path()
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    _fresh_probe()
    doctor(repo)
    assert json.loads(path.read_text())["format"] == 1
